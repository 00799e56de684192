import { KeyRoundIcon, PlusIcon } from "lucide-react";
import { useState } from "react";
import { useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useMe } from "@/features/auth/use-me";
import { useOrg } from "@/features/orgs/api";
import { formatDateTime } from "@/lib/format";

import { useApiKeys, useMemberNames, type ApiKey } from "./api";
import { CreateKeyDialog } from "./create-key-dialog";
import { canCreateKeys, canRevokeKey } from "./permissions";
import { RevokeKeyDialog } from "./revoke-key-dialog";

const STATUS: Record<ApiKey["status"], { label: string; variant: "default" | "secondary" | "outline" }> = {
  active: { label: "Active", variant: "default" },
  expired: { label: "Expired", variant: "outline" },
  revoked: { label: "Revoked", variant: "secondary" },
};

function Loading() {
  return (
    <div className="grid gap-2" aria-busy="true" aria-label="Loading API keys">
      <Skeleton className="h-10" />
      <Skeleton className="h-10" />
      <Skeleton className="h-10" />
    </div>
  );
}

function Empty({ canCreate, onCreate }: { canCreate: boolean; onCreate: () => void }) {
  return (
    <Card>
      <CardContent className="flex flex-col items-center gap-3 p-10 text-center">
        <KeyRoundIcon aria-hidden="true" className="size-8 text-muted-foreground" />
        <div>
          <p className="font-medium">No API keys yet</p>
          <p className="text-sm text-muted-foreground">
            {canCreate
              ? "Create one to call the models with any OpenAI client."
              : "A member, an admin or an owner can create one."}
          </p>
        </div>
        {canCreate ? (
          <Button onClick={onCreate}>
            <PlusIcon aria-hidden="true" />
            Create API key
          </Button>
        ) : null}
      </CardContent>
    </Card>
  );
}

function Models({ models }: { models: string[] | null }) {
  if (models === null) return <span className="text-muted-foreground">All</span>;
  return <span className="font-mono text-xs">{models.join(", ")}</span>;
}

/** `/orgs/:orgId/keys`: the org's API keys; create (secret shown once) and revoke. */
export function KeysPage() {
  const { orgId = "" } = useParams();
  const org = useOrg(orgId);
  const me = useMe();
  const keys = useApiKeys(orgId);
  const names = useMemberNames(orgId);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  // Until the role is known, offer nothing that might be refused.
  const role = org.data ? org.data.role : undefined;
  const canCreate = role !== undefined && canCreateKeys(role);
  const creator = (key: ApiKey) =>
    key.created_by === null
      ? "Deleted account"
      : key.created_by === me.data?.id
        ? "You"
        : (names.data?.get(key.created_by) ?? "A former member");

  return (
    <div className="grid max-w-6xl gap-6">
      <PageHeader
        className="mb-0"
        title="API keys"
        description={
          role === "member"
            ? "Keys of this organization. You can revoke the ones you created."
            : role === "viewer"
              ? "Keys of this organization. As a viewer you can look, not change them."
              : "Keys of this organization call the OpenAI-compatible API at /v1."
        }
        actions={
          canCreate && keys.data && keys.data.length > 0 ? (
            <Button onClick={() => setCreating(true)}>
              <PlusIcon aria-hidden="true" />
              Create API key
            </Button>
          ) : null
        }
      />
      {keys.isPending ? (
        <Loading />
      ) : keys.isError ? (
        <ErrorState title="Could not load the API keys" error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.length === 0 ? (
        <Empty canCreate={canCreate} onCreate={() => setCreating(true)} />
      ) : (
        <Card>
          <Table aria-label="API keys">
            <TableHeader>
              <TableRow>
                <TableHead>Name</TableHead>
                <TableHead>Key</TableHead>
                <TableHead>Models</TableHead>
                <TableHead>Created by</TableHead>
                <TableHead>Created</TableHead>
                <TableHead>Last used</TableHead>
                <TableHead>Expires</TableHead>
                <TableHead>Status</TableHead>
                <TableHead>
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {keys.data.map((key) => (
                <TableRow key={key.id} data-testid="api-key-row">
                  <TableCell className="max-w-48 truncate font-medium" title={key.name}>
                    {key.name}
                  </TableCell>
                  <TableCell className="font-mono text-xs whitespace-nowrap">{key.prefix}…</TableCell>
                  <TableCell>
                    <Models models={key.models} />
                  </TableCell>
                  <TableCell className="whitespace-nowrap">{creator(key)}</TableCell>
                  <TableCell className="whitespace-nowrap">{formatDateTime(key.created_at)}</TableCell>
                  <TableCell className="whitespace-nowrap">
                    {key.last_used_at ? formatDateTime(key.last_used_at) : <span className="text-muted-foreground">Never</span>}
                  </TableCell>
                  <TableCell className="whitespace-nowrap">
                    {key.expires_at ? formatDateTime(key.expires_at) : <span className="text-muted-foreground">Never</span>}
                  </TableCell>
                  <TableCell>
                    <Badge variant={STATUS[key.status].variant}>{STATUS[key.status].label}</Badge>
                  </TableCell>
                  <TableCell className="text-right">
                    {role !== undefined && canRevokeKey(key, role, me.data?.id) ? (
                      <Button
                        variant="ghost"
                        size="sm"
                        className="text-destructive hover:text-destructive"
                        aria-label={`Revoke ${key.name}`}
                        onClick={() => setRevoking(key)}
                      >
                        Revoke
                      </Button>
                    ) : null}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      <CreateKeyDialog orgId={orgId} open={creating} onOpenChange={setCreating} />
      <RevokeKeyDialog orgId={orgId} apiKey={revoking} onClose={() => setRevoking(null)} />
    </div>
  );
}
