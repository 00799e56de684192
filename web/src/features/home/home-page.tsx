import { Building2Icon, PlusIcon } from "lucide-react";
import { useState } from "react";
import { Navigate } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { useMe } from "@/features/auth/use-me";
import { CreateOrgDialog } from "@/features/orgs/create-org-dialog";

/** `/`: straight to your first organization; with none, a way to create one. */
export function HomePage() {
  const me = useMe();
  const [creating, setCreating] = useState(false);

  if (me.isPending) {
    return (
      <div className="grid max-w-xl gap-3" aria-busy="true">
        <Skeleton className="h-8 w-64" />
        <Skeleton className="h-32 w-full" />
      </div>
    );
  }
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  const first = me.data.memberships[0];
  if (first) return <Navigate to={`/orgs/${first.org_id}`} replace />;

  return (
    <div className="max-w-xl">
      <PageHeader title={`Welcome, ${me.data.name}`} />
      <Card>
        <CardHeader>
          <Building2Icon aria-hidden="true" className="size-6 text-muted-foreground" />
          <CardTitle>You are not in an organization yet</CardTitle>
          <CardDescription>
            API keys, members and usage belong to an organization. Create one, or open the invite
            link someone sent you to join theirs.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <Button onClick={() => setCreating(true)}>
            <PlusIcon aria-hidden="true" />
            Create organization
          </Button>
        </CardContent>
      </Card>
      <CreateOrgDialog open={creating} onOpenChange={setCreating} />
    </div>
  );
}
