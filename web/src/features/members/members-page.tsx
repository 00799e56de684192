import { useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { useMe } from "@/features/auth/use-me";
import { useOrg } from "@/features/orgs/api";

import { useMembers } from "./api";
import { InviteForm } from "./invite-form";
import { InvitesTable } from "./invites-table";
import { MembersTable } from "./members-table";
import { canManageMembers } from "./permissions";
import { useActor } from "./use-actor";

function Loading() {
  return (
    <div className="grid gap-4" aria-busy="true">
      <Skeleton className="h-8 w-56" />
      <Skeleton className="h-48" />
      <Skeleton className="h-32" />
    </div>
  );
}

/** `/orgs/:orgId/members`: who is in the organization, their roles, and the invites. */
export function MembersPage() {
  const { orgId = "" } = useParams();
  const org = useOrg(orgId);
  const me = useMe();
  const members = useMembers(orgId);
  const actor = useActor(orgId);

  if (org.isError) {
    return <ErrorState title="Could not load the organization" error={org.error} onRetry={() => void org.refetch()} />;
  }
  if (members.isError) {
    return (
      <ErrorState title="Could not load the members" error={members.error} onRetry={() => void members.refetch()} />
    );
  }
  if (!actor || !org.data || members.isPending) return <Loading />;

  const manages = canManageMembers(actor);
  return (
    <div className="grid max-w-5xl grid-cols-[minmax(0,1fr)] gap-6">
      <PageHeader
        className="mb-0"
        title="Members"
        description={
          manages
            ? `Who is in ${org.data.name}. Admins manage members and viewers; owners also manage admins and owners.`
            : `Who is in ${org.data.name}. Admins and owners manage members and invites.`
        }
      />
      <Card>
        <CardHeader>
          <CardTitle>People</CardTitle>
          <CardDescription>
            {members.data.length === 1 ? "1 member" : `${members.data.length} members`}
          </CardDescription>
        </CardHeader>
        <CardContent>
          <MembersTable
            orgId={orgId}
            orgName={org.data.name}
            actor={actor}
            members={members.data}
            myUserId={me.data?.id}
          />
        </CardContent>
      </Card>
      {manages ? (
        <Card>
          <CardHeader>
            <CardTitle>Invites</CardTitle>
            <CardDescription>
              An invite is a link for one email address; it works once and expires after 7 days.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid grid-cols-[minmax(0,1fr)] gap-6">
            <InviteForm orgId={orgId} actor={actor} />
            <InvitesTable orgId={orgId} actor={actor} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
