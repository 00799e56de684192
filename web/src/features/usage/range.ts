/**
 * The dashboard's date range, as the person picks it, turned into the usage API's query.
 *
 * The granularity follows the span so a chart has tens of bars, not thousands: minutes up to
 * 3 hours, hours up to 3 days, days beyond. The API rounds `start` down and `end` up to bucket
 * edges and leaves empty buckets out; `fillBuckets` puts the gaps back for the chart.
 */

export type Granularity = "minute" | "hour" | "day";
export type Preset = "24h" | "7d" | "30d";

export type RangeSelection =
  | { kind: "preset"; preset: Preset }
  /** Calendar days in the reader's time zone (`YYYY-MM-DD`), both included. */
  | { kind: "custom"; from: string; to: string };

export type UsageQuery = { start: string; end: string; granularity: Granularity };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const PRESETS: { value: Preset; label: string; ms: number }[] = [
  { value: "24h", label: "24 h", ms: DAY },
  { value: "7d", label: "7 d", ms: 7 * DAY },
  { value: "30d", label: "30 d", ms: 30 * DAY },
];

/** The longest custom range: the API allows about ten years by day; a year reads better. */
export const MAX_CUSTOM_DAYS = 366;

const STEP: Record<Granularity, number> = { minute: MINUTE, hour: HOUR, day: DAY };

export function chooseGranularity(spanMs: number): Granularity {
  if (spanMs <= 3 * HOUR) return "minute";
  if (spanMs <= 3 * DAY) return "hour";
  return "day";
}

/** A local `YYYY-MM-DD` at local midnight; null when it is not a real date. */
function localDay(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const date = new Date(year, month, day);
  if (date.getFullYear() !== year || date.getMonth() !== month || date.getDate() !== day) return null;
  return date;
}

/** `YYYY-MM-DD` of a date in the reader's time zone (what `<input type="date">` takes). */
export function toLocalDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export type ResolvedRange = { ok: true; query: UsageQuery } | { ok: false; error: string };

/** The query for a selection at the time `now`, or why a custom range cannot be asked for. */
export function resolveRange(selection: RangeSelection, now: Date): ResolvedRange {
  if (selection.kind === "preset") {
    const preset = PRESETS.find((p) => p.value === selection.preset) ?? PRESETS[0]!;
    const start = new Date(now.getTime() - preset.ms);
    return { ok: true, query: query(start, now) };
  }
  const from = localDay(selection.from);
  const to = localDay(selection.to);
  if (!from || !to) return { ok: false, error: "Pick a start and an end date." };
  if (to < from) return { ok: false, error: "The end date is before the start date." };
  if (from > now) return { ok: false, error: "The start date is in the future." };
  // The end day is included: the range stops at the next local midnight.
  const end = new Date(to.getFullYear(), to.getMonth(), to.getDate() + 1);
  if ((end.getTime() - from.getTime()) / DAY > MAX_CUSTOM_DAYS + 1) {
    return { ok: false, error: `Pick at most ${MAX_CUSTOM_DAYS} days.` };
  }
  return { ok: true, query: query(from, end) };
}

function query(start: Date, end: Date): UsageQuery {
  return {
    start: start.toISOString(),
    end: end.toISOString(),
    granularity: chooseGranularity(end.getTime() - start.getTime()),
  };
}

/** The start of the UTC bucket holding `ms` (the API's buckets are UTC). */
export function bucketFloor(ms: number, granularity: Granularity): number {
  const step = STEP[granularity];
  return Math.floor(ms / step) * step;
}

/**
 * Every bucket from `start` to `end` (excluded), as the API rounds them, with the rows that
 * have usage put in their place and zeros elsewhere. `empty` makes a bucket with no usage.
 */
export function fillBuckets<R extends { bucket: string }, T>(
  rows: readonly R[],
  range: { start: string; end: string; granularity: Granularity },
  empty: (bucket: string) => T,
  merge: (into: T, row: R) => void,
): T[] {
  const step = STEP[range.granularity];
  const first = bucketFloor(Date.parse(range.start), range.granularity);
  const last = Date.parse(range.end);
  const byTime = new Map<number, T>();
  const out: T[] = [];
  for (let t = first; t < last && out.length < 20_000; t += step) {
    const bucket = empty(new Date(t).toISOString());
    byTime.set(t, bucket);
    out.push(bucket);
  }
  for (const row of rows) {
    const target = byTime.get(Date.parse(row.bucket));
    if (target !== undefined) merge(target, row);
  }
  return out;
}
