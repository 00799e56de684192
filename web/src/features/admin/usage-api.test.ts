import { describe, expect, it } from "vitest";

import { chartSeries, dayRange, lastDays, totalsByGroup, type UsageRow } from "./usage-api";

function row(bucket: string, fields: Partial<UsageRow>): UsageRow {
  return {
    bucket,
    requests: 1,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 10,
    cached_tokens: 0,
    cost_usd: 0,
    cost_micros: 0,
    errors: 0,
    ...fields,
  };
}

describe("the report's date range", () => {
  it("covers whole UTC days, the end day included", () => {
    expect(dayRange("2025-01-01", "2025-01-31", "day")).toEqual({
      ok: true,
      value: { start: "2025-01-01T00:00:00.000Z", end: "2025-02-01T00:00:00.000Z" },
    });
    expect(dayRange("2025-03-05", "2025-03-05", "hour")).toMatchObject({ ok: true });
  });

  it("refuses an empty date, a start after the end, and a range too long to chart", () => {
    expect(dayRange("", "2025-01-31", "day")).toMatchObject({ ok: false, error: "Choose a start date." });
    expect(dayRange("2025-02-01", "2025-01-31", "day")).toMatchObject({ ok: false });
    expect(dayRange("2025-01-01", "2025-03-01", "hour")).toMatchObject({
      ok: false,
      error: expect.stringContaining("at most 31 days"),
    });
  });

  it("defaults to the last seven days, today included", () => {
    expect(lastDays(7, new Date("2025-01-10T15:00:00Z"))).toEqual({ from: "2025-01-04", to: "2025-01-10" });
  });
});

describe("grouping and charting", () => {
  const rows = [
    row("2025-01-01T00:00:00Z", { org_id: "a", org_name: "Acme", total_tokens: 100, cost_micros: 2_000_000 }),
    row("2025-01-01T00:00:00Z", { org_id: "b", org_name: null, total_tokens: 5, cost_micros: 0 }),
    row("2025-01-03T00:00:00Z", { org_id: "a", org_name: "Acme", total_tokens: 50, cost_micros: 1_000_000 }),
  ];

  it("sums rows per group, the most expensive first, and names deleted orgs", () => {
    const totals = totalsByGroup(rows, "org");
    expect(totals.map((t) => [t.label, t.total_tokens, t.cost_usd, t.requests])).toEqual([
      ["Acme", 150, 3, 2],
      ["Deleted org b", 5, 0, 1],
    ]);
  });

  it("fills the days without usage with zeros", () => {
    const report = { data: rows, start: "2025-01-01T00:00:00Z", end: "2025-01-04T00:00:00Z" };
    const { points, series } = chartSeries(report, "org", "day");
    expect(series).toEqual([
      { key: "s0", label: "Acme" },
      { key: "s1", label: "Deleted org b" },
    ]);
    expect(points).toEqual([
      { bucket: "2025-01-01T00:00:00.000Z", s0: 100, s1: 5 },
      { bucket: "2025-01-02T00:00:00.000Z", s0: 0, s1: 0 },
      { bucket: "2025-01-03T00:00:00.000Z", s0: 50, s1: 0 },
    ]);
  });

  it("sums the groups past the biggest few as Other", () => {
    const many = ["m1", "m2", "m3"].map((model, i) =>
      row("2025-01-01T00:00:00Z", { model, total_tokens: 10 * (i + 1), cost_micros: i }),
    );
    const report = { data: many, start: "2025-01-01T00:00:00Z", end: "2025-01-02T00:00:00Z" };
    const { points, series } = chartSeries(report, "model", "day", 2);
    expect(series.map((s) => s.label)).toEqual(["m3", "m2", "Other"]);
    expect(points).toEqual([{ bucket: "2025-01-01T00:00:00.000Z", s0: 30, s1: 20, other: 10 }]);
  });
});
