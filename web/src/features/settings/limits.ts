/** The org's limits beside what it uses, as rows for usage bars. */
import { formatLimit, formatNumber } from "@/lib/format";

import type { OrgLimitsRead } from "./api";

export type LimitRow = {
  label: string;
  /** What the window is: "this minute", "right now", "this month". */
  window: string;
  used: string;
  limit: string;
  /** "15 of 60 this minute", or "0 this minute · no limit". */
  summary: string;
  /** Share of the limit used, 0 to 1; null without a limit or without a count. */
  ratio: number | null;
};

/** Share of `limit` that `used` takes, clamped to [0, 1]; null when there is no limit. */
export function usageRatio(used: number | null | undefined, limit: number | null | undefined) {
  if (limit === null || limit === undefined || used === null || used === undefined) return null;
  if (limit <= 0) return used > 0 ? 1 : 0;
  return Math.min(1, Math.max(0, used / limit));
}

function usd(value: number): string {
  return value.toLocaleString(undefined, { style: "currency", currency: "USD" });
}

type Spec = {
  label: string;
  window: string;
  used: number | undefined;
  limit: number | null | undefined;
  money?: boolean;
};

export function limitRows({ limits, usage }: Pick<OrgLimitsRead, "limits" | "usage">): LimitRow[] {
  const specs: Spec[] = [
    { label: "Requests per minute", window: "this minute", used: usage?.requests_this_minute, limit: limits.rpm },
    { label: "Tokens per minute", window: "this minute", used: usage?.tokens_this_minute, limit: limits.tpm },
    { label: "Concurrent requests", window: "right now", used: usage?.requests_in_flight, limit: limits.concurrency },
    { label: "Tokens per month", window: "this month", used: usage?.tokens_this_month, limit: limits.monthly_token_quota },
    {
      label: "Budget per month",
      window: "this month",
      used: usage?.spend_this_month_usd,
      limit: limits.monthly_budget_usd,
      money: true,
    },
  ];
  return specs.map(({ label, window, used, limit, money }) => {
    const usedText = used === undefined ? "Unknown" : money ? usd(used) : formatNumber(used);
    const limitText = formatLimit(limit, money ? { currency: "USD" } : undefined);
    const summary =
      limit === null || limit === undefined
        ? `${usedText} ${window} · no limit`
        : used === undefined
          ? `limit ${limitText}`
          : `${usedText} of ${limitText} ${window}`;
    return { label, window, used: usedText, limit: limitText, summary, ratio: usageRatio(used, limit) };
  });
}
