import { describe, expect, it } from "vitest";

import { limitRows, usageRatio } from "./limits";

describe("usageRatio", () => {
  it("is the share of the limit used, clamped to 0..1", () => {
    expect(usageRatio(25, 100)).toBe(0.25);
    expect(usageRatio(150, 100)).toBe(1);
    expect(usageRatio(0, 100)).toBe(0);
  });

  it("is null without a limit or without a count", () => {
    expect(usageRatio(10, null)).toBeNull();
    expect(usageRatio(undefined, 100)).toBeNull();
  });

  it("treats a zero limit as full once anything is used", () => {
    expect(usageRatio(0, 0)).toBe(0);
    expect(usageRatio(1, 0)).toBe(1);
  });
});

describe("limitRows", () => {
  const limits = {
    rpm: 60,
    tpm: null,
    concurrency: 4,
    monthly_token_quota: 1_000_000,
    monthly_budget_usd: 50,
  };

  it("pairs each limit with its current consumption", () => {
    const rows = limitRows({
      limits,
      usage: {
        requests_this_minute: 15,
        tokens_this_minute: 300,
        requests_in_flight: 1,
        tokens_this_month: 250_000,
        spend_this_month_usd: 12.5,
      },
    });
    expect(rows.map((r) => r.label)).toEqual([
      "Requests per minute",
      "Tokens per minute",
      "Concurrent requests",
      "Tokens per month",
      "Budget per month",
    ]);
    expect(rows.map((r) => r.ratio)).toEqual([0.25, null, 0.25, 0.25, 0.25]);
    expect(rows[1]!.limit).toBe("No limit");
    expect(rows[0]!.summary).toBe("15 of 60 this minute");
    expect(rows[1]!.summary).toBe("300 this minute · no limit");
  });

  it("says the consumption is unknown when the limiter cannot be reached", () => {
    const rows = limitRows({ limits, usage: null });
    expect(rows.every((r) => r.used === "Unknown" && r.ratio === null)).toBe(true);
    expect(rows[0]!.summary).toBe("limit 60");
  });
});
