/** Platform usage (`GET /api/admin/usage`, super admins) and the date range it is asked for. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

import { adminKeys } from "./api";
import type { Parsed } from "./validation";

export type UsageReport = Schemas["UsageReportRead"];
export type UsageRow = Schemas["UsageRow"];
export type UsageGroup = "org" | "model";
export type Granularity = "hour" | "day";

export type UsageQuery = {
  /** RFC 3339, UTC. */
  start: string;
  /** RFC 3339, UTC, excluded. */
  end: string;
  granularity: Granularity;
  group_by: UsageGroup;
};

export function usePlatformUsage(query: UsageQuery | null) {
  return useQuery({
    queryKey: adminKeys.usage(query ?? {}),
    queryFn: () => unwrap(api.GET("/admin/usage", { params: { query: query! } })),
    enabled: query !== null,
    placeholderData: keepPreviousData,
  });
}

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// The API's widest hourly report is 400 days; a day report spans years, more than a chart shows.
export const MAX_RANGE_DAYS = { hour: 31, day: 400 } as const;

/** A UTC calendar day as `YYYY-MM-DD`, the value of an `<input type="date">`. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last `days` UTC days, today included. */
export function lastDays(days: number, now = new Date()): { from: string; to: string } {
  return { from: isoDay(new Date(now.getTime() - (days - 1) * DAY_MS)), to: isoDay(now) };
}

/**
 * The report window for the days `from` to `to`, both included: from 00:00 UTC on `from` to
 * 00:00 UTC on the day after `to`. Usage buckets are UTC days, so the totals match the rows.
 */
export function dayRange(
  from: string,
  to: string,
  granularity: Granularity,
): Parsed<{ start: string; end: string }> {
  if (!DATE.test(from) || Number.isNaN(Date.parse(`${from}T00:00:00Z`))) {
    return { ok: false, error: "Choose a start date." };
  }
  if (!DATE.test(to) || Number.isNaN(Date.parse(`${to}T00:00:00Z`))) {
    return { ok: false, error: "Choose an end date." };
  }
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`) + DAY_MS;
  if (end <= start) return { ok: false, error: "The start date must not be after the end date." };
  const days = (end - start) / DAY_MS;
  const max = MAX_RANGE_DAYS[granularity];
  if (days > max) {
    return {
      ok: false,
      error: `By ${granularity}, choose at most ${max} days (this range has ${days}).`,
    };
  }
  return {
    ok: true,
    value: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
  };
}

/** What a row is a line of: the org's or the model's name. */
export function groupLabel(row: UsageRow, group: UsageGroup): string {
  if (group === "model") return row.model ?? "(unknown model)";
  return row.org_name ?? (row.org_id ? `Deleted org ${row.org_id.slice(0, 8)}` : "(no org)");
}

export type GroupTotal = {
  key: string;
  label: string;
  requests: number;
  total_tokens: number;
  cost_usd: number;
  errors: number;
};

/** The report's rows summed per group, the most expensive (then busiest) first. */
export function totalsByGroup(rows: UsageRow[], group: UsageGroup): GroupTotal[] {
  const byKey = new Map<string, GroupTotal>();
  for (const row of rows) {
    const key = (group === "model" ? row.model : row.org_id) ?? "";
    const total =
      byKey.get(key) ??
      { key, label: groupLabel(row, group), requests: 0, total_tokens: 0, cost_usd: 0, errors: 0 };
    total.requests += row.requests;
    total.total_tokens += row.total_tokens;
    total.cost_usd += row.cost_micros / 1_000_000;
    total.errors += row.errors;
    byKey.set(key, total);
  }
  return [...byKey.values()].sort(
    (a, b) => b.cost_usd - a.cost_usd || b.total_tokens - a.total_tokens || a.label.localeCompare(b.label),
  );
}

export type ChartPoint = { bucket: string } & Record<string, number | string>;

/**
 * One point per bucket with a number per group (its tokens), the buckets without usage filled
 * in with zeros: the report is sparse, a chart should not skip days. Groups past `maxSeries`
 * are summed as "Other".
 */
export function chartSeries(
  report: Pick<UsageReport, "data" | "start" | "end">,
  group: UsageGroup,
  granularity: Granularity,
  maxSeries = 6,
): { points: ChartPoint[]; series: { key: string; label: string }[] } {
  const groups = totalsByGroup(report.data, group);
  const shown = groups.slice(0, maxSeries);
  const series = shown.map((g, i) => ({ key: `s${i}`, label: g.label }));
  const seriesOf = new Map(shown.map((g, i) => [g.key, `s${i}`]));
  const hasOther = groups.length > maxSeries;
  if (hasOther) series.push({ key: "other", label: "Other" });

  const step = granularity === "hour" ? 3_600_000 : DAY_MS;
  const points = new Map<number, ChartPoint>();
  const empty = (at: number): ChartPoint => {
    const point: ChartPoint = { bucket: new Date(at).toISOString() };
    for (const s of series) point[s.key] = 0;
    return point;
  };
  const first = Date.parse(report.start);
  const last = Date.parse(report.end);
  if (Number.isFinite(first) && Number.isFinite(last) && (last - first) / step <= 10_000) {
    for (let at = first; at < last; at += step) points.set(at, empty(at));
  }
  for (const row of report.data) {
    const at = Date.parse(row.bucket);
    const point = points.get(at) ?? empty(at);
    const key = (group === "model" ? row.model : row.org_id) ?? "";
    const name = seriesOf.get(key) ?? "other";
    point[name] = (point[name] as number) + row.total_tokens;
    points.set(at, point);
  }
  return { points: [...points.entries()].sort(([a], [b]) => a - b).map(([, p]) => p), series };
}
