import { lazy, Suspense, useMemo, useState, type FormEvent } from "react";

import { ErrorState } from "@/components/error-state";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import { Skeleton } from "@/components/ui/skeleton";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { formatNumber } from "@/lib/format";

import {
  dayRange,
  lastDays,
  totalsByGroup,
  usePlatformUsage,
  type Granularity,
  type UsageGroup,
  type UsageQuery,
} from "./usage-api";

// Recharts is large: it loads with this page, not with the app.
const UsageChart = lazy(() => import("./usage-chart"));

export function formatUsd(value: number): string {
  return value.toLocaleString(undefined, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: value !== 0 && Math.abs(value) < 0.01 ? 6 : 2,
  });
}

type Filters = { from: string; to: string; granularity: Granularity; group: UsageGroup };

function toQuery(filters: Filters): { query: UsageQuery | null; error: string | null } {
  const range = dayRange(filters.from, filters.to, filters.granularity);
  if (!range.ok) return { query: null, error: range.error };
  return {
    query: { ...range.value, granularity: filters.granularity, group_by: filters.group },
    error: null,
  };
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="rounded-lg border bg-card p-4">
      <p className="text-xs text-muted-foreground">{label}</p>
      <p className="mt-1 text-xl font-semibold tabular-nums">{value}</p>
    </div>
  );
}

/** `/admin/usage`: requests, tokens and cost across the platform, by organization or model. */
export function UsagePage() {
  const [draft, setDraft] = useState<Filters>(() => ({ ...lastDays(7), granularity: "day", group: "org" }));
  const [applied, setApplied] = useState<Filters>(draft);
  const { query, error: rangeError } = toQuery(applied);
  const draftError = toQuery(draft).error;
  const usage = usePlatformUsage(query);
  const groups = useMemo(
    () => (usage.data ? totalsByGroup(usage.data.data, applied.group) : []),
    [usage.data, applied.group],
  );

  // A choice in a list applies at once; dates wait for "Show", since typing one passes through
  // dates nobody meant.
  function choose(next: Filters) {
    setDraft(next);
    if (!toQuery(next).error) setApplied(next);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draftError) setApplied(draft);
  }

  const groupTitle = applied.group === "org" ? "Organization" : "Model";
  return (
    <div className="grid grid-cols-1 gap-4">
      <Card>
        <CardHeader>
          <CardTitle>Platform usage</CardTitle>
          <CardDescription>Days are UTC, both ends included.</CardDescription>
        </CardHeader>
        <CardContent>
          <form onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-[repeat(4,minmax(0,1fr))_auto] sm:items-end" noValidate>
            <div className="grid gap-1.5">
              <Label htmlFor="usage-from">From</Label>
              <Input
                id="usage-from"
                type="date"
                value={draft.from}
                max={draft.to || undefined}
                onChange={(event) => setDraft({ ...draft, from: event.target.value })}
              />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="usage-to">To</Label>
              <Input
                id="usage-to"
                type="date"
                value={draft.to}
                min={draft.from || undefined}
                onChange={(event) => setDraft({ ...draft, to: event.target.value })}
              />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="usage-group">Group by</Label>
              <Select
                id="usage-group"
                value={draft.group}
                onChange={(event) => choose({ ...draft, group: event.target.value as UsageGroup })}
              >
                <option value="org">Organization</option>
                <option value="model">Model</option>
              </Select>
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="usage-granularity">Per</Label>
              <Select
                id="usage-granularity"
                value={draft.granularity}
                onChange={(event) => choose({ ...draft, granularity: event.target.value as Granularity })}
              >
                <option value="day">Day</option>
                <option value="hour">Hour</option>
              </Select>
            </div>
            <Button type="submit" disabled={draftError !== null}>
              Show
            </Button>
          </form>
          {draftError ?? rangeError ? (
            <p role="alert" className="mt-2 text-sm font-medium text-destructive">
              {draftError ?? rangeError}
            </p>
          ) : null}
        </CardContent>
      </Card>

      {usage.isError ? (
        <ErrorState title="Could not load the usage" error={usage.error} onRetry={() => void usage.refetch()} />
      ) : !usage.data ? (
        <div className="grid gap-4" aria-busy="true">
          <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
            {[0, 1, 2, 3].map((i) => (
              <Skeleton key={i} className="h-20" />
            ))}
          </div>
          <Skeleton className="h-72" />
        </div>
      ) : (
        <div className="grid grid-cols-1 gap-4" aria-busy={usage.isFetching || undefined}>
          <section aria-label="Totals" className="grid grid-cols-2 gap-4 lg:grid-cols-4">
            <Stat label="Requests" value={formatNumber(usage.data.totals.requests)} />
            <Stat label="Tokens" value={formatNumber(usage.data.totals.total_tokens)} />
            <Stat label="Cost" value={formatUsd(usage.data.totals.cost_usd)} />
            <Stat label="Errors" value={formatNumber(usage.data.totals.errors)} />
          </section>
          {usage.data.data.length === 0 ? (
            <Alert>
              <AlertDescription>No usage in this period.</AlertDescription>
            </Alert>
          ) : (
            <>
              <Card>
                <CardHeader>
                  <CardTitle as="h3">Tokens per {applied.granularity}</CardTitle>
                </CardHeader>
                <CardContent>
                  <Suspense fallback={<Skeleton className="h-72" />}>
                    <UsageChart report={usage.data} group={applied.group} granularity={applied.granularity} />
                  </Suspense>
                </CardContent>
              </Card>
              <Card>
                <CardHeader>
                  <CardTitle as="h3">By {groupTitle.toLowerCase()}</CardTitle>
                </CardHeader>
                <CardContent>
                  <Table aria-label={`Usage by ${groupTitle.toLowerCase()}`}>
                    <TableHeader>
                      <TableRow>
                        <TableHead>{groupTitle}</TableHead>
                        <TableHead className="text-right">Requests</TableHead>
                        <TableHead className="text-right">Tokens</TableHead>
                        <TableHead className="text-right">Cost</TableHead>
                        <TableHead className="text-right">Errors</TableHead>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {groups.map((group) => (
                        <TableRow key={group.key}>
                          <TableCell className="font-medium">{group.label}</TableCell>
                          <TableCell className="text-right tabular-nums">{formatNumber(group.requests)}</TableCell>
                          <TableCell className="text-right tabular-nums">{formatNumber(group.total_tokens)}</TableCell>
                          <TableCell className="text-right tabular-nums">{formatUsd(group.cost_usd)}</TableCell>
                          <TableCell className="text-right tabular-nums">{formatNumber(group.errors)}</TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                </CardContent>
              </Card>
            </>
          )}
        </div>
      )}
    </div>
  );
}
