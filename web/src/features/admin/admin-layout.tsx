import {
  BarChart3Icon,
  BoxesIcon,
  Building2Icon,
  ScrollTextIcon,
  ShieldXIcon,
  UsersIcon,
} from "lucide-react";
import { Link, NavLink, Outlet } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { useMe } from "@/features/auth/use-me";
import { cn } from "@/lib/utils";

export const ADMIN_SECTIONS = [
  { path: "orgs", title: "Organizations", icon: Building2Icon },
  { path: "users", title: "Users", icon: UsersIcon },
  { path: "models", title: "Models", icon: BoxesIcon },
  { path: "usage", title: "Usage", icon: BarChart3Icon },
  { path: "audit", title: "Audit log", icon: ScrollTextIcon },
] as const;

function tabClass({ isActive }: { isActive: boolean }) {
  return cn(
    "inline-flex h-full items-center gap-1.5 rounded-md px-3 text-sm font-medium whitespace-nowrap transition-colors outline-none focus-visible:ring-2 focus-visible:ring-ring [&_svg]:size-4",
    isActive ? "bg-background text-foreground shadow-xs" : "hover:text-foreground",
  );
}

/** What anyone but a super admin sees at `/admin`: words, and a way back. */
export function NotAllowed() {
  return (
    <div className="grid max-w-md gap-3">
      <ShieldXIcon aria-hidden="true" className="size-8 text-muted-foreground" />
      <h1 className="text-2xl font-semibold">Not allowed</h1>
      <p className="text-sm text-muted-foreground">
        Platform administration is for super admins. Ask one of them if you need a change to
        organizations, users or models.
      </p>
      <div>
        <Button asChild variant="outline">
          <Link to="/">Go to the start page</Link>
        </Button>
      </div>
    </div>
  );
}

/** `/admin/*`: the platform's organizations, users, models and usage, for super admins only. */
export function AdminLayout() {
  const me = useMe();
  if (me.isPending) {
    return (
      <div className="grid gap-4" aria-busy="true">
        <Skeleton className="h-8 w-72 max-w-full" />
        <Skeleton className="h-9 w-96 max-w-full" />
        <Skeleton className="h-64" />
      </div>
    );
  }
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  if (!me.data.is_super_admin) return <NotAllowed />;

  return (
    <div className="grid max-w-6xl grid-cols-1 gap-4">
      <PageHeader
        className="mb-0"
        title="Platform administration"
        description="Every organization, user and model on this IAS, what they use, and who changed what."
      />
      <nav
        aria-label="Administration"
        className="inline-flex h-9 w-fit max-w-full items-center overflow-x-auto rounded-lg bg-muted p-1 text-muted-foreground"
      >
        {ADMIN_SECTIONS.map((section) => (
          <NavLink key={section.path} to={`/admin/${section.path}`} className={tabClass}>
            <section.icon aria-hidden="true" />
            {section.title}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}
