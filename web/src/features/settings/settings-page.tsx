import { useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Skeleton } from "@/components/ui/skeleton";
import { useOrg } from "@/features/orgs/api";
import { canManageOrg } from "@/features/members/permissions";
import { useActor } from "@/features/members/use-actor";

import { DeleteOrgCard } from "./delete-org-card";
import { LimitsCard } from "./limits-card";
import { RenameCard } from "./rename-card";

/** `/orgs/:orgId/settings`: the name, the limits and what is used of them, deleting the org. */
export function SettingsPage() {
  const { orgId = "" } = useParams();
  const org = useOrg(orgId);
  const actor = useActor(orgId);

  if (org.isError) {
    return (
      <ErrorState
        title="Could not load the organization"
        error={org.error}
        onRetry={() => void org.refetch()}
      />
    );
  }
  if (!org.data || !actor) {
    return (
      <div className="grid gap-4" aria-busy="true">
        <Skeleton className="h-8 w-40" />
        <Skeleton className="h-32" />
        <Skeleton className="h-64" />
      </div>
    );
  }

  const owner = canManageOrg(actor);
  return (
    <div className="grid max-w-3xl grid-cols-[minmax(0,1fr)] gap-6">
      <PageHeader className="mb-0" title="Settings" description={org.data.name} />
      <RenameCard key={org.data.name} org={org.data} canRename={owner} />
      <LimitsCard orgId={orgId} />
      {owner ? <DeleteOrgCard org={org.data} /> : null}
    </div>
  );
}
