import { ChartColumnIcon, InfoIcon, RefreshCwIcon } from "lucide-react";
import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Tabs, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useOrg } from "@/features/orgs/api";
import { formatDateTime, formatNumber } from "@/lib/format";

import { useUsage, type UsageReport } from "./api";
import { Breakdown } from "./breakdown";
import { formatUsd } from "./format";
import { RangePicker } from "./range-picker";
import { resolveRange, type RangeSelection } from "./range";
import { chartSeries, summarize, type Metric } from "./summary";

const UsageChart = lazy(() => import("./usage-chart"));

const METRICS: { value: Metric; label: string }[] = [
  { value: "requests", label: "Requests" },
  { value: "total_tokens", label: "Tokens" },
  { value: "cost_usd", label: "Cost" },
];

const GRANULARITY_WORDS: Record<string, string> = { minute: "minute", hour: "hour", day: "day" };

function TotalsCards({ report }: { report: UsageReport }) {
  const { totals } = report;
  const cards = [
    {
      id: "requests",
      label: "Requests",
      value: formatNumber(totals.requests),
      note: totals.errors > 0 ? `${formatNumber(totals.errors)} failed` : "none failed",
    },
    {
      id: "tokens",
      label: "Tokens",
      value: formatNumber(totals.total_tokens),
      note: `${formatNumber(totals.prompt_tokens)} prompt · ${formatNumber(totals.completion_tokens)} completion`,
    },
    { id: "cost", label: "Cost", value: formatUsd(totals.cost_usd), note: "US dollars, at the models' prices" },
  ];
  return (
    <div className="grid gap-4 sm:grid-cols-3">
      {cards.map((card) => (
        <Card key={card.id} data-testid={`total-${card.id}`}>
          <CardHeader className="pb-1">
            <CardDescription>{card.label}</CardDescription>
          </CardHeader>
          <CardContent>
            <p className="text-2xl font-semibold tabular-nums" data-testid={`total-${card.id}-value`}>
              {card.value}
            </p>
            <p className="mt-1 text-xs text-muted-foreground">{card.note}</p>
          </CardContent>
        </Card>
      ))}
    </div>
  );
}

function Loading() {
  return (
    <div className="grid gap-4" aria-busy="true" aria-label="Loading usage">
      <div className="grid gap-4 sm:grid-cols-3">
        <Skeleton className="h-28" />
        <Skeleton className="h-28" />
        <Skeleton className="h-28" />
      </div>
      <Skeleton className="h-80" />
    </div>
  );
}

function Empty({ orgId }: { orgId: string }) {
  return (
    <Card>
      <CardContent className="flex flex-col items-center gap-3 p-10 text-center">
        <ChartColumnIcon aria-hidden="true" className="size-8 text-muted-foreground" />
        <div>
          <p className="font-medium">No usage in this range</p>
          <p className="text-sm text-muted-foreground">
            Requests made with an API key show up here within moments.
          </p>
        </div>
        <div className="flex gap-2">
          <Button asChild variant="outline" size="sm">
            <Link to={`/orgs/${orgId}/keys`}>API keys</Link>
          </Button>
          <Button asChild variant="outline" size="sm">
            <Link to={`/orgs/${orgId}/playground`}>Try the playground</Link>
          </Button>
        </div>
      </CardContent>
    </Card>
  );
}

/** `/orgs/:orgId/usage`: requests, tokens and cost over a range, by model and by key. */
export function UsagePage() {
  const { orgId = "" } = useParams();
  const org = useOrg(orgId);
  const [selection, setSelection] = useState<RangeSelection>({ kind: "preset", preset: "7d" });
  // Presets end "now": fixed when chosen (or refreshed), so the query key stays put.
  const [now, setNow] = useState(() => Date.now());
  const [metric, setMetric] = useState<Metric>("requests");

  const resolved = useMemo(() => resolveRange(selection, new Date(now)), [selection, now]);
  const query = resolved.ok ? resolved.query : null;
  const byModel = useUsage(orgId, query, "model");
  const byKey = useUsage(orgId, query, "api_key");

  const models = useMemo(() => (byModel.data ? summarize(byModel.data.data) : []), [byModel.data]);
  const keys = useMemo(() => (byKey.data ? summarize(byKey.data.data) : []), [byKey.data]);
  const points = useMemo(
    () => (byModel.data ? chartSeries(byModel.data, models, metric) : []),
    [byModel.data, models, metric],
  );

  const role = org.data?.role;
  const ownUsageOnly = role === "member" || role === "viewer";
  const failed = byModel.isError ? byModel : byKey.isError ? byKey : null;
  const report = byModel.data;
  const refreshing = byModel.isFetching || byKey.isFetching;

  return (
    <div className="grid max-w-6xl gap-6">
      <PageHeader
        className="mb-0"
        title="Usage"
        description="Requests, tokens and cost of this organization's API keys."
        actions={
          <Button
            variant="outline"
            onClick={() => setNow(Date.now())}
            disabled={refreshing}
            aria-label="Refresh usage"
          >
            <RefreshCwIcon aria-hidden="true" className={refreshing ? "animate-spin" : undefined} />
            Refresh
          </Button>
        }
      />
      {ownUsageOnly ? (
        <Alert>
          <InfoIcon aria-hidden="true" />
          <AlertTitle>Your own usage</AlertTitle>
          <AlertDescription>
            As a {role}, you see the usage of the API keys you created. Admins and owners see the
            whole organization&apos;s.
          </AlertDescription>
        </Alert>
      ) : null}
      <div className="flex flex-wrap items-start justify-between gap-3">
        <RangePicker
          value={selection}
          onChange={(next) => {
            setSelection(next);
            setNow(Date.now());
          }}
        />
        {report ? (
          <p className="text-sm text-muted-foreground">
            {formatDateTime(report.start)} – {formatDateTime(report.end)}, by{" "}
            {GRANULARITY_WORDS[report.granularity] ?? report.granularity} (UTC buckets)
          </p>
        ) : null}
      </div>
      {failed ? (
        <ErrorState
          title="Could not load the usage"
          error={failed.error}
          onRetry={() => void failed.refetch()}
        />
      ) : !report || !byKey.data ? (
        <Loading />
      ) : (
        <>
          <TotalsCards report={report} />
          {report.totals.requests === 0 ? (
            <Empty orgId={orgId} />
          ) : (
            <>
              <Card>
                <CardHeader className="flex-row flex-wrap items-center justify-between gap-3">
                  <div className="grid gap-1.5">
                    <CardTitle>Over time</CardTitle>
                    <CardDescription>Stacked by model.</CardDescription>
                  </div>
                  <Tabs value={metric} onValueChange={(value) => setMetric(value as Metric)}>
                    <TabsList aria-label="Metric">
                      {METRICS.map((m) => (
                        <TabsTrigger key={m.value} value={m.value}>
                          {m.label}
                        </TabsTrigger>
                      ))}
                    </TabsList>
                  </Tabs>
                </CardHeader>
                <CardContent>
                  <div
                    className="h-72"
                    role="img"
                    aria-label={`${METRICS.find((m) => m.value === metric)?.label} per ${report.granularity}, by model`}
                  >
                    <Suspense fallback={<Skeleton className="h-full" />}>
                      <UsageChart
                        points={points}
                        groups={models}
                        metric={metric}
                        granularity={report.granularity}
                      />
                    </Suspense>
                  </div>
                </CardContent>
              </Card>
              <div className="grid gap-4 lg:grid-cols-2">
                <Breakdown
                  title="By model"
                  description="What each model was asked and cost."
                  groupLabel="Model"
                  groups={models}
                  colored
                />
                <Breakdown
                  title="By API key"
                  description="Which keys made the requests."
                  groupLabel="Key"
                  groups={keys}
                />
              </div>
            </>
          )}
        </>
      )}
    </div>
  );
}
