import { useState } from "react";

import { ErrorState } from "@/components/error-state";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { toast } from "@/components/ui/toast";
import { ROLE_LABELS } from "@/features/orgs/roles";
import { formatDate, formatDateTime } from "@/lib/format";

import { useInvites, useRevokeInvite, type Invite } from "./api";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { mayAssign, type Actor } from "./permissions";

const STATUS_LABELS: Record<Invite["status"], string> = {
  pending: "Pending",
  accepted: "Accepted",
  revoked: "Revoked",
  expired: "Expired",
};

function when(invite: Invite): string {
  switch (invite.status) {
    case "pending":
      return `Expires ${formatDateTime(invite.expires_at)}`;
    case "accepted":
      return invite.accepted_at ? `Accepted ${formatDate(invite.accepted_at)}` : "Accepted";
    case "revoked":
      return invite.revoked_at ? `Revoked ${formatDate(invite.revoked_at)}` : "Revoked";
    case "expired":
      return `Expired ${formatDate(invite.expires_at)}`;
  }
}

/** Open invites first, then those closed in the last 30 days; open ones can be revoked. */
export function InvitesTable({ orgId, actor }: { orgId: string; actor: Actor }) {
  const invites = useInvites(orgId, true);
  const revoke = useRevokeInvite(orgId);
  const [revoking, setRevoking] = useState<Invite | null>(null);

  if (invites.isPending) {
    return (
      <div className="grid gap-2" aria-busy="true">
        <Skeleton className="h-9" />
        <Skeleton className="h-9" />
      </div>
    );
  }
  if (invites.isError) {
    return (
      <ErrorState
        title="Could not load the invites"
        error={invites.error}
        onRetry={() => void invites.refetch()}
      />
    );
  }
  if (invites.data.length === 0) {
    return <p className="text-sm text-muted-foreground">No invites yet. Invite someone above.</p>;
  }

  const rows = [...invites.data].sort(
    (a, b) => Number(b.status === "pending") - Number(a.status === "pending"),
  );
  return (
    <>
      <Table aria-label="Invites">
        <TableHeader>
          <TableRow>
            <TableHead>Email</TableHead>
            <TableHead>Role</TableHead>
            <TableHead>Status</TableHead>
            <TableHead>When</TableHead>
            <TableHead>
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((invite) => (
            <TableRow key={invite.id}>
              <TableCell className="min-w-44 [overflow-wrap:anywhere]">{invite.email}</TableCell>
              <TableCell>{ROLE_LABELS[invite.role]}</TableCell>
              <TableCell>
                <Badge variant={invite.status === "pending" ? "outline" : "secondary"}>
                  {STATUS_LABELS[invite.status]}
                </Badge>
              </TableCell>
              <TableCell className="whitespace-nowrap text-muted-foreground">{when(invite)}</TableCell>
              <TableCell className="text-right">
                {invite.status === "pending" && mayAssign(actor, invite.role) ? (
                  <Button
                    variant="ghost"
                    size="sm"
                    aria-label={`Revoke the invite of ${invite.email}`}
                    onClick={() => {
                      revoke.reset();
                      setRevoking(invite);
                    }}
                  >
                    Revoke
                  </Button>
                ) : null}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => (open ? undefined : setRevoking(null))}
        title="Revoke this invite?"
        description={`The link sent to ${revoking?.email ?? ""} stops working. You can invite them again afterwards.`}
        confirmLabel="Revoke"
        pendingLabel="Revoking…"
        destructive
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() =>
          revoking &&
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast.success(`The invite of ${revoking.email} was revoked`);
              setRevoking(null);
            },
          })
        }
      />
    </>
  );
}
