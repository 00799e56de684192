/** Numbers on the dashboard: short in charts, exact enough in tables, money in US dollars. */

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

export function formatCompact(value: number): string {
  return compact.format(value);
}

/** Dollars with as many decimals as a small amount needs ($0.000007 is not "$0.00"). */
export function formatUsd(value: number): string {
  const digits = value === 0 || Math.abs(value) >= 1 ? 2 : Math.abs(value) >= 0.01 ? 4 : 6;
  return value.toLocaleString(undefined, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: digits,
  });
}

export function formatBucket(iso: string, granularity: string): string {
  const date = new Date(iso);
  if (granularity === "day") return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  if (granularity === "hour") {
    return date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "numeric" });
  }
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}
