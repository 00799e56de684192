import { describe, expect, it } from "vitest";

import {
  changedLimits,
  changedModelFields,
  emptyModelForm,
  limitsForm,
  parseBackend,
  parseDecimal,
  parseInteger,
  parseLimits,
  parseModel,
  parseModelName,
} from "./validation";

describe("parseInteger", () => {
  it("reads whole numbers, with the separators people type", () => {
    expect(parseInteger("600")).toEqual({ ok: true, value: 600 });
    expect(parseInteger(" 1,000,000 ")).toEqual({ ok: true, value: 1_000_000 });
    expect(parseInteger("10 000")).toEqual({ ok: true, value: 10_000 });
    expect(parseInteger("0")).toEqual({ ok: true, value: 0 });
  });

  it("reads an empty optional field as no limit, and refuses it when required", () => {
    expect(parseInteger("  ", { optional: true })).toEqual({ ok: true, value: null });
    expect(parseInteger("")).toMatchObject({ ok: false, error: "Enter a number." });
  });

  it("refuses negatives, decimals, letters and values out of bounds", () => {
    expect(parseInteger("-5")).toMatchObject({ ok: false, error: "Enter a whole number of at least 0." });
    expect(parseInteger("1.5")).toMatchObject({ ok: false });
    expect(parseInteger("1e3")).toMatchObject({ ok: false });
    expect(parseInteger("six")).toMatchObject({ ok: false });
    expect(parseInteger("0", { min: 1 })).toMatchObject({ ok: false, error: "Enter at least 1." });
    expect(parseInteger("1001", { max: 1000 })).toMatchObject({ ok: false, error: "Enter at most 1,000." });
  });
});

describe("parseDecimal (prices and budgets in USD)", () => {
  it("reads amounts with a dot, a leading $ or none", () => {
    expect(parseDecimal("25.50")).toEqual({ ok: true, value: 25.5 });
    expect(parseDecimal("$0.4")).toEqual({ ok: true, value: 0.4 });
    expect(parseDecimal(".25")).toEqual({ ok: true, value: 0.25 });
    expect(parseDecimal("3.")).toEqual({ ok: true, value: 3 });
    expect(parseDecimal("0")).toEqual({ ok: true, value: 0 });
  });

  it("refuses a comma instead of guessing whether it is a decimal point", () => {
    expect(parseDecimal("1,50")).toMatchObject({ ok: false, error: expect.stringContaining("dot") });
  });

  it("refuses negatives, words, infinity and values out of bounds", () => {
    expect(parseDecimal("-1")).toMatchObject({ ok: false, error: "Enter an amount of at least 0." });
    expect(parseDecimal("ten")).toMatchObject({ ok: false });
    expect(parseDecimal("Infinity")).toMatchObject({ ok: false });
    expect(parseDecimal("1.2.3")).toMatchObject({ ok: false });
    expect(parseDecimal("2000000", { max: 1_000_000 })).toMatchObject({ ok: false });
  });

  it("reads an empty optional field as null", () => {
    expect(parseDecimal("", { optional: true })).toEqual({ ok: true, value: null });
    expect(parseDecimal("")).toMatchObject({ ok: false });
  });
});

describe("org limits", () => {
  const current = { rpm: 60, tpm: null, concurrency: null, monthly_token_quota: 1000, monthly_budget_usd: 10 };

  it("round-trips the current limits through the form", () => {
    const parsed = parseLimits(limitsForm(current));
    expect(parsed).toMatchObject({ ok: true, value: current });
  });

  it("names every wrong field, and wants at least one request at once", () => {
    const parsed = parseLimits({ ...limitsForm(current), rpm: "-1", concurrency: "0", monthly_budget_usd: "abc" });
    expect(parsed.ok).toBe(false);
    expect(Object.keys(parsed.errors).sort()).toEqual(["concurrency", "monthly_budget_usd", "rpm"]);
  });

  it("sends only what changed; clearing a field means no limit", () => {
    const parsed = parseLimits({ ...limitsForm(current), rpm: "", tpm: "5000" });
    expect(parsed.ok && changedLimits(current, parsed.value)).toEqual({ rpm: null, tpm: 5000 });
    expect(changedLimits(current, current)).toEqual({});
  });
});

describe("models and backends", () => {
  const valid = {
    ...emptyModelForm(),
    name: "llama-3.1-8b",
    upstream_model: "meta-llama/Llama-3.1-8B-Instruct",
    input_price_per_mtok: "0.2",
    output_price_per_mtok: "0.6",
  };

  it("reads a model, leaving the optional fields null", () => {
    expect(parseModel(valid)).toMatchObject({
      ok: true,
      value: {
        name: "llama-3.1-8b",
        kind: "chat",
        context_length: null,
        input_price_per_mtok: 0.2,
        output_price_per_mtok: 0.6,
        cached_input_price_per_mtok: null,
      },
    });
  });

  it("refuses names clients could not send, and says which fields are wrong", () => {
    expect(parseModelName("my model")).toMatchObject({ ok: false });
    expect(parseModelName("org/model:v1.2_x-y")).toEqual({ ok: true, value: "org/model:v1.2_x-y" });
    const parsed = parseModel({ ...valid, name: "", upstream_model: " ", context_length: "0", output_price_per_mtok: "-2" });
    expect(Object.keys(parsed.errors).sort()).toEqual(["context_length", "name", "output_price_per_mtok", "upstream_model"]);
  });

  it("lists only the changed fields of an edit", () => {
    const before = parseModel(valid);
    const after = parseModel({ ...valid, output_price_per_mtok: "0.8", context_length: "8192" });
    if (!before.ok || !after.ok) throw new Error("valid forms");
    expect(changedModelFields(before.value, after.value)).toEqual({ output_price_per_mtok: 0.8, context_length: 8192 });
  });

  it("reads a backend: http(s) URL, optional key, weight 1 to 1000 (default 1)", () => {
    expect(parseBackend({ url: " http://10.0.0.5:8000/v1 ", api_key: "", weight: "" })).toMatchObject({
      ok: true,
      value: { url: "http://10.0.0.5:8000/v1", api_key: null, weight: 1 },
    });
    const bad = parseBackend({ url: "10.0.0.5:8000", api_key: "has space", weight: "0" });
    expect(Object.keys(bad.errors).sort()).toEqual(["api_key", "url", "weight"]);
  });
});
