import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { ErrorState } from "@/components/error-state";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { api, unwrap } from "@/lib/api";
import { formatDateTime } from "@/lib/format";

import { PAGE_SIZE } from "./api";
import { PagerControls, SearchBox, TableSkeleton } from "./list-controls";
import { useDebouncedValue, usePager } from "./use-pager";

function usePlatformAudit(action: string, cursor: string | null) {
  return useQuery({
    queryKey: ["admin", "audit", { action, cursor }],
    queryFn: () =>
      unwrap(
        api.GET("/admin/audit", {
          params: {
            query: { action: action || undefined, cursor: cursor ?? undefined, limit: PAGE_SIZE },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

/** What changed, in one line: `{"from": {"rpm": null}, "to": {"rpm": 600}}` and the like. */
export function detailsLine(details: Record<string, unknown>): string {
  const text = JSON.stringify(details);
  return text === "{}" ? "" : text;
}

/** `/admin/audit`: who did what on the whole platform, newest first, filtered by action. */
export function AuditPage() {
  const [search, setSearch] = useState("");
  const action = useDebouncedValue(search.trim());
  const pager = usePager(action);
  const audit = usePlatformAudit(action, pager.cursor);

  return (
    <Card>
      <CardHeader className="gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div className="grid gap-1.5">
          <CardTitle>Audit log</CardTitle>
          <CardDescription>Every change on the platform, newest first.</CardDescription>
        </div>
        <SearchBox
          id="admin-audit-action"
          label="Only the action, e.g. user.disabled"
          value={search}
          onChange={setSearch}
        />
      </CardHeader>
      <CardContent>
        {audit.isPending ? (
          <TableSkeleton />
        ) : audit.isError ? (
          <ErrorState
            title="Could not load the audit log"
            error={audit.error}
            onRetry={() => void audit.refetch()}
          />
        ) : audit.data.data.length === 0 ? (
          <p className="py-6 text-center text-sm text-muted-foreground">
            {action ? `No entry with the action “${action}”.` : "Nothing recorded yet."}
          </p>
        ) : (
          <>
            <Table aria-label="Audit log" aria-busy={audit.isFetching || undefined}>
              <TableHeader>
                <TableRow>
                  <TableHead>When</TableHead>
                  <TableHead>Who</TableHead>
                  <TableHead>Action</TableHead>
                  <TableHead>Target</TableHead>
                  <TableHead>Details</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {audit.data.data.map((entry) => {
                  const details = detailsLine(entry.details);
                  return (
                    <TableRow key={entry.id}>
                      <TableCell className="whitespace-nowrap">{formatDateTime(entry.at)}</TableCell>
                      <TableCell>
                        {entry.actor_email ?? (entry.actor_user_id ? "Deleted user" : "Anonymous")}
                        {entry.ip ? (
                          <span className="block text-xs text-muted-foreground">{entry.ip}</span>
                        ) : null}
                      </TableCell>
                      <TableCell className="font-mono text-xs whitespace-nowrap">{entry.action}</TableCell>
                      <TableCell className="text-xs text-muted-foreground">
                        {entry.target_type ? `${entry.target_type} ${entry.target_id?.slice(0, 8) ?? ""}` : "—"}
                      </TableCell>
                      <TableCell className="max-w-[28rem] truncate font-mono text-xs" title={details}>
                        {details || "—"}
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
            <PagerControls
              label="Audit log pages"
              page={pager.page}
              hasPrevious={pager.hasPrevious}
              nextCursor={audit.data.next_cursor}
              busy={audit.isFetching}
              onPrevious={pager.previous}
              onNext={pager.next}
            />
          </>
        )}
      </CardContent>
    </Card>
  );
}
