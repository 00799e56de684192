import { useState } from "react";

import { ErrorState } from "@/components/error-state";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { toast } from "@/components/ui/toast";
import { useMe } from "@/features/auth/use-me";
import { formatDate, formatNumber } from "@/lib/format";

import { useAdminUsers, useUpdateUser, type AdminUser, type AdminUserUpdate } from "./api";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PagerControls, SearchBox, TableSkeleton } from "./list-controls";
import { useDebouncedValue, usePager } from "./use-pager";

type Change = "disable" | "enable" | "promote" | "demote";

const CHANGES: Record<
  Change,
  {
    body: AdminUserUpdate;
    title: (u: AdminUser) => string;
    description: string;
    confirm: string;
    done: string;
    destructive: boolean;
  }
> = {
  disable: {
    body: { disabled: true },
    title: (u) => `Disable ${u.email}?`,
    description:
      "They are signed out everywhere at once and their API keys stop working. Enabling the account again brings the keys back, but not the sessions.",
    confirm: "Disable account",
    done: "Account disabled",
    destructive: true,
  },
  enable: {
    body: { disabled: false },
    title: (u) => `Enable ${u.email}?`,
    description: "They can sign in again, and their API keys work again.",
    confirm: "Enable account",
    done: "Account enabled",
    destructive: false,
  },
  promote: {
    body: { is_super_admin: true },
    title: (u) => `Make ${u.email} a super admin?`,
    description:
      "Super admins may do everything on every organization, manage users and own the model registry.",
    confirm: "Make super admin",
    done: "Super admin rights granted",
    destructive: false,
  },
  demote: {
    body: { is_super_admin: false },
    title: (u) => `Remove super admin rights from ${u.email}?`,
    description: "They keep their account and their roles in organizations.",
    confirm: "Remove super admin",
    done: "Super admin rights removed",
    destructive: true,
  },
};

/** `/admin/users`: every account; disable or enable it, grant or revoke super admin, with a confirmation. */
export function UsersPage() {
  const me = useMe();
  const [search, setSearch] = useState("");
  const q = useDebouncedValue(search.trim());
  const pager = usePager(q);
  const users = useAdminUsers(q, pager.cursor);
  const update = useUpdateUser();
  const [pending, setPending] = useState<{ user: AdminUser; change: Change } | null>(null);

  function ask(user: AdminUser, change: Change) {
    update.reset();
    setPending({ user, change });
  }

  function confirm() {
    if (!pending) return;
    const { user, change } = pending;
    update.mutate(
      { userId: user.id, changes: CHANGES[change].body },
      {
        onSuccess: (saved) => {
          toast.success(CHANGES[change].done, saved.email);
          setPending(null);
        },
      },
    );
  }

  const spec = pending ? CHANGES[pending.change] : null;
  return (
    <Card>
      <CardHeader className="gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div className="grid gap-1.5">
          <CardTitle>Users</CardTitle>
          <CardDescription>Every account on the platform, newest first.</CardDescription>
        </div>
        <SearchBox id="admin-users-search" label="Search by email or name" value={search} onChange={setSearch} />
      </CardHeader>
      <CardContent>
        {users.isPending ? (
          <TableSkeleton />
        ) : users.isError ? (
          <ErrorState title="Could not load the users" error={users.error} onRetry={() => void users.refetch()} />
        ) : users.data.data.length === 0 ? (
          <p className="py-6 text-center text-sm text-muted-foreground">
            {q ? `No user matches “${q}”.` : "No users yet."}
          </p>
        ) : (
          <>
            <Table aria-label="Users" aria-busy={users.isFetching || undefined}>
              <TableHeader>
                <TableRow>
                  <TableHead>Email</TableHead>
                  <TableHead>Name</TableHead>
                  <TableHead className="text-right">Orgs</TableHead>
                  <TableHead>Role</TableHead>
                  <TableHead>Status</TableHead>
                  <TableHead>Joined</TableHead>
                  <TableHead>
                    <span className="sr-only">Actions</span>
                  </TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {users.data.data.map((user) => (
                  <TableRow key={user.id}>
                    <TableCell className="font-medium">
                      {user.email}
                      {user.id === me.data?.id ? (
                        <span className="ml-2 text-xs font-normal text-muted-foreground">(you)</span>
                      ) : null}
                    </TableCell>
                    <TableCell>{user.name}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatNumber(user.orgs)}</TableCell>
                    <TableCell>
                      {user.is_super_admin ? <Badge>Super admin</Badge> : <span className="text-muted-foreground">User</span>}
                    </TableCell>
                    <TableCell>
                      {user.disabled ? (
                        <Badge variant="destructive">Disabled</Badge>
                      ) : (
                        <Badge variant="secondary">Active</Badge>
                      )}
                    </TableCell>
                    <TableCell className="whitespace-nowrap">{formatDate(user.created_at)}</TableCell>
                    <TableCell>
                      <div className="flex justify-end gap-2">
                        <Button
                          variant="outline"
                          size="sm"
                          aria-label={`${user.is_super_admin ? "Remove super admin from" : "Make super admin"} ${user.email}`}
                          onClick={() => ask(user, user.is_super_admin ? "demote" : "promote")}
                        >
                          {user.is_super_admin ? "Remove super admin" : "Make super admin"}
                        </Button>
                        <Button
                          variant={user.disabled ? "outline" : "destructive"}
                          size="sm"
                          aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.email}`}
                          onClick={() => ask(user, user.disabled ? "enable" : "disable")}
                        >
                          {user.disabled ? "Enable" : "Disable"}
                        </Button>
                      </div>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <PagerControls
              label="User pages"
              page={pager.page}
              hasPrevious={pager.hasPrevious}
              nextCursor={users.data.next_cursor}
              busy={users.isFetching}
              onPrevious={pager.previous}
              onNext={pager.next}
            />
          </>
        )}
      </CardContent>
      <ConfirmDialog
        open={pending !== null}
        onOpenChange={(open) => !open && setPending(null)}
        title={pending && spec ? spec.title(pending.user) : ""}
        description={spec?.description ?? ""}
        confirmLabel={spec?.confirm ?? ""}
        destructive={spec?.destructive}
        pending={update.isPending}
        error={update.error}
        onConfirm={confirm}
      />
    </Card>
  );
}
