import { ScrollTextIcon } from "lucide-react";
import { useMemo } from "react";
import { useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { useMembers } from "@/features/members/api";
import { formatDateTime } from "@/lib/format";

import { useAuditLog, type AuditEntry } from "./api";
import { actionLabel, detailPairs, targetLabel } from "./describe";

function Loading() {
  return (
    <div className="grid gap-2" aria-busy="true">
      {[0, 1, 2, 3, 4].map((i) => (
        <Skeleton key={i} className="h-10" />
      ))}
    </div>
  );
}

function Details({ details }: { details: AuditEntry["details"] }) {
  const pairs = detailPairs(details);
  if (pairs.length === 0) return <span className="text-muted-foreground">—</span>;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-2 text-xs">
      {pairs.map(([key, value]) => (
        <div key={key} className="contents">
          <dt className="text-muted-foreground">{key}</dt>
          <dd className="[overflow-wrap:anywhere]">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Entries({ entries, people }: { entries: AuditEntry[]; people: ReadonlyMap<string, string> }) {
  return (
    <Table aria-label="Audit log">
      <TableHeader>
        <TableRow>
          <TableHead>Time</TableHead>
          <TableHead>Actor</TableHead>
          <TableHead>Action</TableHead>
          <TableHead>Target</TableHead>
          <TableHead>Details</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {entries.map((entry) => (
          <TableRow key={entry.id} className="align-top">
            <TableCell className="whitespace-nowrap text-muted-foreground">
              <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
            </TableCell>
            <TableCell className="min-w-40 [overflow-wrap:anywhere]">
              {entry.actor_email ?? (entry.actor_user_id ? "Deleted user" : "Anonymous")}
              {entry.ip ? <span className="block text-xs text-muted-foreground">{entry.ip}</span> : null}
            </TableCell>
            <TableCell className="min-w-40">
              <span className="block font-medium">{actionLabel(entry.action)}</span>
              <code className="font-mono text-xs text-muted-foreground">{entry.action}</code>
            </TableCell>
            <TableCell className="min-w-40 [overflow-wrap:anywhere]">{targetLabel(entry, people)}</TableCell>
            <TableCell className="min-w-64">
              <Details details={entry.details} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** `/orgs/:orgId/audit`: who did what in the organization, newest first (admins and owners). */
export function AuditPage() {
  const { orgId = "" } = useParams();
  const log = useAuditLog(orgId);
  const members = useMembers(orgId);
  const people = useMemo(
    () => new Map((members.data ?? []).map((m) => [m.user_id, `${m.name} (${m.email})`])),
    [members.data],
  );

  const entries = log.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <div className="grid max-w-6xl grid-cols-[minmax(0,1fr)] gap-6">
      <PageHeader
        className="mb-0"
        title="Audit log"
        description="Who changed what in this organization, newest first."
      />
      {log.isPending ? (
        <Loading />
      ) : !log.data ? (
        <ErrorState
          title="Could not load the audit log"
          error={log.error}
          onRetry={() => void log.refetch()}
        />
      ) : entries.length === 0 ? (
        <Card>
          <CardContent className="flex items-center gap-3 pt-5 text-sm text-muted-foreground">
            <ScrollTextIcon aria-hidden="true" className="size-5" />
            Nothing recorded yet. Changes to members, invites, keys and settings appear here.
          </CardContent>
        </Card>
      ) : (
        <Card>
          <CardContent className="grid grid-cols-[minmax(0,1fr)] gap-4 pt-5">
            <Entries entries={entries} people={people} />
            {log.isFetchNextPageError ? (
              <ErrorState title="Could not load more entries" error={log.error} />
            ) : null}
            {log.hasNextPage ? (
              <div className="flex justify-center">
                <Button
                  variant="outline"
                  disabled={log.isFetchingNextPage}
                  onClick={() => void log.fetchNextPage()}
                >
                  {log.isFetchingNextPage ? "Loading…" : "Load more"}
                </Button>
              </div>
            ) : (
              <p className="text-center text-xs text-muted-foreground">
                {entries.length === 1 ? "1 entry" : `${entries.length} entries`}, the whole log.
              </p>
            )}
          </CardContent>
        </Card>
      )}
    </div>
  );
}
