import { LogOutIcon, UserMinusIcon } from "lucide-react";
import { useState } from "react";
import { useNavigate } from "react-router-dom";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Select } from "@/components/ui/select";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { toast } from "@/components/ui/toast";
import type { OrgRole } from "@/features/auth/use-me";
import { ROLE_LABELS } from "@/features/orgs/roles";
import { formatDate } from "@/lib/format";

import { useChangeRole, useRemoveMember, type Member } from "./api";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { canActOn, grantableRoles, type Actor } from "./permissions";

type RoleChange = { member: Member; role: OrgRole };

/** The members with their roles; who may manage them changes roles and removes people here. */
export function MembersTable({
  orgId,
  orgName,
  actor,
  members,
  myUserId,
}: {
  orgId: string;
  orgName: string;
  actor: Actor;
  members: Member[];
  myUserId: string | undefined;
}) {
  const changeRole = useChangeRole(orgId);
  const removeMember = useRemoveMember(orgId);
  const navigate = useNavigate();
  const [pending, setPending] = useState<RoleChange | null>(null);
  const [toViewer, setToViewer] = useState<RoleChange | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const roles = grantableRoles(actor);

  function apply(change: RoleChange) {
    setPending(change);
    changeRole.mutate(
      { userId: change.member.user_id, role: change.role },
      {
        onSuccess: (updated) => {
          toast.success(`${updated.name} is now ${ROLE_LABELS[updated.role].toLowerCase()}`);
          setToViewer(null);
        },
        onError: (error) => {
          if (!toViewer) toast.error(error, `Could not change the role of ${change.member.name}`);
        },
        onSettled: () => setPending(null),
      },
    );
  }

  function choose(member: Member, role: OrgRole) {
    if (role === member.role) return;
    const change = { member, role };
    // Viewers hold no API keys: the API revokes theirs, so ask first.
    if (role === "viewer") {
      changeRole.reset();
      setToViewer(change);
    } else {
      apply(change);
    }
  }

  function remove(member: Member) {
    const leaving = member.user_id === myUserId;
    removeMember.mutate(member.user_id, {
      onSuccess: () => {
        setRemoving(null);
        if (leaving) {
          toast.success(`You left ${orgName}`);
          navigate("/", { replace: true });
        } else {
          toast.success(`${member.name} was removed`);
        }
      },
    });
  }

  const leaving = removing !== null && removing.user_id === myUserId;
  return (
    <>
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Name</TableHead>
            <TableHead>Email</TableHead>
            <TableHead>Role</TableHead>
            <TableHead>Joined</TableHead>
            <TableHead>
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {members.map((member) => {
            const self = member.user_id === myUserId;
            const manageable = canActOn(actor, member.role);
            const shown = pending?.member.user_id === member.user_id ? pending.role : member.role;
            return (
              <TableRow key={member.user_id}>
                <TableCell className="font-medium">
                  {member.name}
                  {self ? <span className="ml-1 text-muted-foreground">(you)</span> : null}
                </TableCell>
                <TableCell className="min-w-44 [overflow-wrap:anywhere]">{member.email}</TableCell>
                <TableCell>
                  {manageable ? (
                    <Select
                      className="h-8 w-32"
                      aria-label={`Role of ${member.name}`}
                      value={shown}
                      disabled={pending !== null}
                      onChange={(event) => choose(member, event.target.value as OrgRole)}
                    >
                      {roles.map((role) => (
                        <option key={role} value={role}>
                          {ROLE_LABELS[role]}
                        </option>
                      ))}
                    </Select>
                  ) : (
                    <Badge variant={member.role === "owner" ? "default" : "secondary"}>
                      {ROLE_LABELS[member.role]}
                    </Badge>
                  )}
                </TableCell>
                <TableCell className="whitespace-nowrap text-muted-foreground">
                  {formatDate(member.joined_at)}
                </TableCell>
                <TableCell className="text-right">
                  {self ? (
                    <Button
                      variant="ghost"
                      size="sm"
                      onClick={() => {
                        removeMember.reset();
                        setRemoving(member);
                      }}
                    >
                      <LogOutIcon aria-hidden="true" />
                      Leave
                    </Button>
                  ) : manageable ? (
                    <Button
                      variant="ghost"
                      size="sm"
                      aria-label={`Remove ${member.name}`}
                      onClick={() => {
                        removeMember.reset();
                        setRemoving(member);
                      }}
                    >
                      <UserMinusIcon aria-hidden="true" />
                      Remove
                    </Button>
                  ) : null}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => (open ? undefined : setRemoving(null))}
        title={leaving ? `Leave ${orgName}?` : `Remove ${removing?.name ?? ""}?`}
        description={
          leaving
            ? "You lose access to it, and your API keys in it are revoked. To come back you need a new invite."
            : `${removing?.email ?? ""} loses access to ${orgName}, and their API keys in it are revoked.`
        }
        confirmLabel={leaving ? "Leave" : "Remove"}
        destructive
        pendingLabel={leaving ? "Leaving…" : "Removing…"}
        pending={removeMember.isPending}
        error={removeMember.error}
        onConfirm={() => removing && remove(removing)}
      />
      <ConfirmDialog
        open={toViewer !== null}
        onOpenChange={(open) => (open ? undefined : setToViewer(null))}
        title={`Make ${toViewer?.member.name ?? ""} a viewer?`}
        description="Viewers only look around: their API keys in this organization are revoked now."
        confirmLabel="Make viewer"
        destructive
        pendingLabel="Changing…"
        pending={changeRole.isPending}
        error={toViewer ? changeRole.error : null}
        onConfirm={() => toViewer && apply(toViewer)}
      />
    </>
  );
}
