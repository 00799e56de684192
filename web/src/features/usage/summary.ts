import type { UsageRow } from "./api";
import { fillBuckets, type Granularity } from "./range";

export type Metric = "requests" | "total_tokens" | "cost_usd";

export type GroupSummary = {
  key: string;
  label: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  errors: number;
};

/** What a row is counted under: its model, or its key (a deleted key keeps its id). */
export function groupOf(row: UsageRow): { key: string; label: string } {
  if (row.model !== undefined && row.model !== null) return { key: row.model, label: row.model };
  if (row.api_key_id) {
    return { key: row.api_key_id, label: row.api_key_name ?? "Deleted key" };
  }
  return { key: "all", label: "All usage" };
}

/** One line per group over the whole range, the largest (by tokens, then requests) first. */
export function summarize(rows: readonly UsageRow[]): GroupSummary[] {
  const groups = new Map<string, GroupSummary>();
  for (const row of rows) {
    const { key, label } = groupOf(row);
    const sum = groups.get(key) ?? {
      key,
      label,
      requests: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      cost_usd: 0,
      errors: 0,
    };
    sum.requests += row.requests;
    sum.prompt_tokens += row.prompt_tokens;
    sum.completion_tokens += row.completion_tokens;
    sum.total_tokens += row.total_tokens;
    sum.cost_usd += row.cost_micros / 1_000_000;
    sum.errors += row.errors;
    groups.set(key, sum);
  }
  return [...groups.values()].sort(
    (a, b) => b.total_tokens - a.total_tokens || b.requests - a.requests || a.label.localeCompare(b.label),
  );
}

export type ChartPoint = { bucket: string } & Record<string, number | string>;

/** Every bucket of the report, with one number per group for `metric` (0 where unused). */
export function chartSeries(
  report: { data: readonly UsageRow[]; start: string; end: string; granularity: string },
  groups: readonly GroupSummary[],
  metric: Metric,
): ChartPoint[] {
  return fillBuckets(
    report.data,
    { start: report.start, end: report.end, granularity: report.granularity as Granularity },
    (bucket) => {
      const point: ChartPoint = { bucket };
      for (const group of groups) point[group.key] = 0;
      return point;
    },
    (point, row) => {
      const key = groupOf(row).key;
      const value = metric === "cost_usd" ? row.cost_micros / 1_000_000 : row[metric];
      point[key] = (Number(point[key]) || 0) + value;
    },
  );
}
