import { describe, expect, it } from "vitest";

import { chooseGranularity, fillBuckets, resolveRange, toLocalDay } from "./range";

const NOW = new Date("2025-03-15T10:30:00Z");
const HOUR = 3_600_000;

describe("resolveRange", () => {
  it("turns presets into a range ending now, by hour for a day and by day beyond", () => {
    expect(resolveRange({ kind: "preset", preset: "24h" }, NOW)).toEqual({
      ok: true,
      query: { start: "2025-03-14T10:30:00.000Z", end: "2025-03-15T10:30:00.000Z", granularity: "hour" },
    });
    expect(resolveRange({ kind: "preset", preset: "7d" }, NOW)).toEqual({
      ok: true,
      query: { start: "2025-03-08T10:30:00.000Z", end: "2025-03-15T10:30:00.000Z", granularity: "day" },
    });
    const month = resolveRange({ kind: "preset", preset: "30d" }, NOW);
    expect(month.ok && month.query.granularity).toBe("day");
    expect(month.ok && month.query.start).toBe("2025-02-13T10:30:00.000Z");
  });

  it("covers whole local days of a custom range, the end day included", () => {
    const range = resolveRange({ kind: "custom", from: "2025-03-01", to: "2025-03-01" }, NOW);
    expect(range).toEqual({
      ok: true,
      query: {
        start: new Date(2025, 2, 1).toISOString(),
        end: new Date(2025, 2, 2).toISOString(),
        granularity: "hour",
      },
    });
    const week = resolveRange({ kind: "custom", from: "2025-03-01", to: "2025-03-10" }, NOW);
    expect(week.ok && week.query.granularity).toBe("day");
  });

  it("refuses custom ranges the API would refuse or that make no sense, saying why", () => {
    expect(resolveRange({ kind: "custom", from: "2025-03-10", to: "2025-03-01" }, NOW)).toEqual({
      ok: false,
      error: "The end date is before the start date.",
    });
    expect(resolveRange({ kind: "custom", from: "", to: "2025-03-01" }, NOW)).toMatchObject({ ok: false });
    expect(resolveRange({ kind: "custom", from: "2025-02-30", to: "2025-03-01" }, NOW)).toMatchObject({ ok: false });
    expect(resolveRange({ kind: "custom", from: "2025-04-01", to: "2025-04-02" }, NOW)).toEqual({
      ok: false,
      error: "The start date is in the future.",
    });
    expect(resolveRange({ kind: "custom", from: "2020-01-01", to: "2025-01-01" }, NOW)).toEqual({
      ok: false,
      error: "Pick at most 366 days.",
    });
  });
});

describe("chooseGranularity", () => {
  it("keeps charts to tens of bars", () => {
    expect(chooseGranularity(HOUR)).toBe("minute");
    expect(chooseGranularity(3 * HOUR)).toBe("minute");
    expect(chooseGranularity(3 * HOUR + 1)).toBe("hour");
    expect(chooseGranularity(72 * HOUR)).toBe("hour");
    expect(chooseGranularity(72 * HOUR + 1)).toBe("day");
  });
});

describe("fillBuckets", () => {
  it("lists every bucket of the rounded range, with the sparse rows in place", () => {
    const filled = fillBuckets(
      [
        { bucket: "2025-03-15T08:00:00Z", requests: 2 },
        { bucket: "2025-03-15T10:00:00Z", requests: 5 },
        { bucket: "2025-03-15T10:00:00Z", requests: 1 },
      ],
      { start: "2025-03-15T07:00:00Z", end: "2025-03-15T11:00:00Z", granularity: "hour" },
      (bucket) => ({ bucket, requests: 0 }),
      (into, row) => {
        into.requests += row.requests;
      },
    );
    expect(filled).toEqual([
      { bucket: "2025-03-15T07:00:00.000Z", requests: 0 },
      { bucket: "2025-03-15T08:00:00.000Z", requests: 2 },
      { bucket: "2025-03-15T09:00:00.000Z", requests: 0 },
      { bucket: "2025-03-15T10:00:00.000Z", requests: 6 },
    ]);
  });
});

describe("toLocalDay", () => {
  it("writes the date the way a date input reads it", () => {
    expect(toLocalDay(new Date(2025, 0, 5, 23, 59))).toBe("2025-01-05");
  });
});
