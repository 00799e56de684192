import { CircleUserIcon, HomeIcon, LogOutIcon, ShieldIcon } from "lucide-react";
import { Link, NavLink, Outlet, useNavigate, useParams } from "react-router-dom";

import { visibleSections } from "@/app/sections";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { useAuth } from "@/features/auth/auth-context";
import { useMe } from "@/features/auth/use-me";
import { OrgSwitcher } from "@/features/orgs/org-switcher";
import { cn } from "@/lib/utils";

function navClass({ isActive }: { isActive: boolean }) {
  return cn(
    "flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap outline-none transition-colors hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring [&_svg]:size-4",
    isActive ? "bg-accent text-accent-foreground" : "text-muted-foreground",
  );
}

/** The org's navigation: a column beside the page on wide screens, a scrolling row on phones. */
function OrgNav({ orgId }: { orgId: string }) {
  const me = useMe();
  const membership = me.data?.memberships.find((m) => m.org_id === orgId);
  const sections = visibleSections(membership?.role ?? null);
  return (
    <nav
      aria-label="Organization"
      className="flex gap-1 overflow-x-auto border-b px-3 py-2 md:w-56 md:shrink-0 md:flex-col md:overflow-visible md:border-r md:border-b-0 md:py-4"
    >
      <NavLink to={`/orgs/${orgId}`} end className={navClass}>
        <HomeIcon aria-hidden="true" />
        Overview
      </NavLink>
      {sections.map((section) => (
        <NavLink key={section.path} to={`/orgs/${orgId}/${section.path}`} className={navClass}>
          <section.icon aria-hidden="true" />
          {section.title}
        </NavLink>
      ))}
    </nav>
  );
}

/** The way into `/admin`, for super admins only; on phones it lives in the account menu. */
function AdminLink() {
  const me = useMe();
  if (!me.data?.is_super_admin) return null;
  return (
    <NavLink to="/admin" className={(state) => cn(navClass(state), "hidden sm:flex")}>
      <ShieldIcon aria-hidden="true" />
      Admin
    </NavLink>
  );
}

function UserMenu() {
  const me = useMe();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" aria-label="Account">
          <CircleUserIcon aria-hidden="true" className="size-5!" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end">
        <DropdownMenuLabel className="font-normal">
          <span className="block truncate text-sm font-medium text-foreground">
            {me.data?.name ?? "Signed in"}
          </span>
          <span className="block truncate">{me.data?.email}</span>
          {me.data?.is_super_admin ? <span className="block">Platform administrator</span> : null}
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        {me.data?.is_super_admin ? (
          <DropdownMenuItem asChild>
            <Link to="/admin">
              <ShieldIcon aria-hidden="true" />
              Platform admin
            </Link>
          </DropdownMenuItem>
        ) : null}
        <DropdownMenuItem
          onSelect={() => {
            void signOut().then(() => navigate("/login", { replace: true }));
          }}
        >
          <LogOutIcon aria-hidden="true" />
          Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

/** The signed-in frame: a top bar (home, organization, account) and, inside an org, its nav. */
export function AppLayout() {
  const { orgId } = useParams();
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-background focus:px-3 focus:py-2 focus:ring-2 focus:ring-ring"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-40 flex h-14 items-center gap-3 border-b bg-background/95 px-3 backdrop-blur sm:px-4">
        <NavLink
          to="/"
          className="rounded-md px-1 text-base font-semibold tracking-tight outline-none focus-visible:ring-2 focus-visible:ring-ring"
        >
          IAS
        </NavLink>
        <OrgSwitcher currentOrgId={orgId} />
        <div className="ml-auto flex items-center gap-1">
          <AdminLink />
          <UserMenu />
        </div>
      </header>
      <div className="flex flex-1 flex-col md:flex-row">
        {orgId ? <OrgNav orgId={orgId} /> : null}
        <main id="main" tabIndex={-1} className="min-w-0 flex-1 p-4 outline-none sm:p-6">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
