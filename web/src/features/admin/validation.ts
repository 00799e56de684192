/**
 * Reading the admin forms' text fields into what the API takes, with a message a person can act
 * on when a value is not acceptable. The bounds mirror the control plane's, so most mistakes are
 * caught before a request; the server still has the last word and its message is shown too.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

export const MAX_INT32 = 2 ** 31 - 1;
export const MAX_BUDGET_USD = 1e12;
export const MAX_CONCURRENCY = 100_000;
export const MAX_PRICE_PER_MTOK = 1_000_000;
export const MAX_WEIGHT = 1000;
export const MAX_NAME_LENGTH = 255;

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
// Thousands separators people type out of habit: "1,000", "1 000", "1_000".
const GROUPING = /[\s,_]/g;

type Bounds = { min?: number; max?: number; optional?: boolean };

/**
 * A whole number of at least `min` (default 0), or null for an empty field when `optional`.
 * Separators such as "10,000" are accepted.
 */
export function parseInteger(
  text: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER, optional = false }: Bounds = {},
): Parsed<number | null> {
  const trimmed = text.trim();
  if (trimmed === "") return optional ? ok(null) : fail("Enter a number.");
  const digits = trimmed.replace(GROUPING, "");
  if (digits.startsWith("-")) return fail(`Enter a whole number of at least ${min}.`);
  if (!INTEGER.test(digits)) return fail("Enter a whole number, without decimals or letters.");
  const value = Number(digits);
  if (value < min) return fail(`Enter at least ${min.toLocaleString("en-US")}.`);
  if (value > max) return fail(`Enter at most ${max.toLocaleString("en-US")}.`);
  return ok(value);
}

/**
 * An amount in US dollars (or a price), written with a dot for the cents: "25", "25.50", "$0.4".
 * A comma is refused rather than guessed at: "1,50" could be 1.5 or 150.
 */
export function parseDecimal(
  text: string,
  { min = 0, max = Number.MAX_VALUE, optional = false }: Bounds = {},
): Parsed<number | null> {
  const trimmed = text.trim().replace(/^\$\s*/, "").replace(/[\s_]/g, "");
  if (trimmed === "") return optional ? ok(null) : fail("Enter an amount.");
  if (trimmed.includes(",")) {
    return fail("Write the amount without commas, with a dot for decimals: 1000.50.");
  }
  if (trimmed.startsWith("-")) return fail(`Enter an amount of at least ${min}.`);
  if (!DECIMAL.test(trimmed)) return fail("Enter a number, such as 0.50.");
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return fail("Enter a number, such as 0.50.");
  if (value < min) return fail(`Enter at least ${min}.`);
  if (value > max) return fail(`Enter at most ${max.toLocaleString("en-US")}.`);
  return ok(value);
}

/** How a number is shown back in a form field: empty for "no limit", no separators. */
export function fieldText(value: number | null | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

// ---- Org limits ---------------------------------------------------------------------------

export type LimitsForm = {
  rpm: string;
  tpm: string;
  concurrency: string;
  monthly_token_quota: string;
  monthly_budget_usd: string;
};

export type Limits = { [K in keyof LimitsForm]: number | null };

export type FormErrors<F> = Partial<Record<keyof F, string>>;

/** A whole form read: the values, or a message per wrong field (`errors`). */
export type Checked<T, F> = Parsed<T> & { errors: FormErrors<F> };

export function limitsForm(limits: Partial<Limits>): LimitsForm {
  return {
    rpm: fieldText(limits.rpm),
    tpm: fieldText(limits.tpm),
    concurrency: fieldText(limits.concurrency),
    monthly_token_quota: fieldText(limits.monthly_token_quota),
    monthly_budget_usd: fieldText(limits.monthly_budget_usd),
  };
}

/** Every limit read from the form (empty = no limit), or the message of each wrong field. */
export function parseLimits(form: LimitsForm): Checked<Limits, LimitsForm> {
  const fields = {
    rpm: parseInteger(form.rpm, { max: MAX_INT32, optional: true }),
    tpm: parseInteger(form.tpm, { max: MAX_INT32, optional: true }),
    concurrency: parseInteger(form.concurrency, { min: 1, max: MAX_CONCURRENCY, optional: true }),
    monthly_token_quota: parseInteger(form.monthly_token_quota, { optional: true }),
    monthly_budget_usd: parseDecimal(form.monthly_budget_usd, { max: MAX_BUDGET_USD, optional: true }),
  };
  const errors: FormErrors<LimitsForm> = {};
  const values: Partial<Limits> = {};
  for (const [name, parsed] of Object.entries(fields) as [keyof LimitsForm, Parsed<number | null>][]) {
    if (parsed.ok) values[name] = parsed.value;
    else errors[name] = parsed.error;
  }
  if (Object.keys(errors).length > 0) return { ok: false, error: "Some limits are not valid.", errors };
  return { ok: true, value: values as Limits, errors };
}

/**
 * Only the limits that differ from the current ones: a resent value would be checked again,
 * and a quota the org has already gone past would be refused although nobody changed it.
 */
export function changedLimits(current: Limits, next: Limits): Partial<Limits> {
  const changes: Partial<Limits> = {};
  for (const name of Object.keys(next) as (keyof Limits)[]) {
    if ((current[name] ?? null) !== next[name]) changes[name] = next[name];
  }
  return changes;
}

// ---- Models and backends ------------------------------------------------------------------

export const MODEL_KINDS = ["chat", "completion", "embedding"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export type ModelForm = {
  name: string;
  kind: ModelKind;
  upstream_model: string;
  context_length: string;
  input_price_per_mtok: string;
  output_price_per_mtok: string;
  cached_input_price_per_mtok: string;
};

export type ModelFields = {
  name: string;
  kind: ModelKind;
  upstream_model: string;
  context_length: number | null;
  input_price_per_mtok: number;
  output_price_per_mtok: number;
  cached_input_price_per_mtok: number | null;
};

const MODEL_NAME = /^[A-Za-z0-9._:/-]+$/;

export function emptyModelForm(): ModelForm {
  return {
    name: "",
    kind: "chat",
    upstream_model: "",
    context_length: "",
    input_price_per_mtok: "",
    output_price_per_mtok: "",
    cached_input_price_per_mtok: "",
  };
}

export function modelForm(model: ModelFields): ModelForm {
  return {
    name: model.name,
    kind: model.kind,
    upstream_model: model.upstream_model,
    context_length: fieldText(model.context_length),
    input_price_per_mtok: fieldText(model.input_price_per_mtok),
    output_price_per_mtok: fieldText(model.output_price_per_mtok),
    cached_input_price_per_mtok: fieldText(model.cached_input_price_per_mtok),
  };
}

export function parseModelName(text: string): Parsed<string> {
  const name = text.trim();
  if (name === "") return fail("Enter the name clients will send as `model`.");
  if (name.length > MAX_NAME_LENGTH) return fail(`Use at most ${MAX_NAME_LENGTH} characters.`);
  if (!MODEL_NAME.test(name)) return fail("Use only letters, digits and . _ : / - (no spaces).");
  return ok(name);
}

/** The model's fields read from the form, or the message of each wrong field. */
export function parseModel(form: ModelForm): Checked<ModelFields, ModelForm> {
  const errors: FormErrors<ModelForm> = {};
  const name = parseModelName(form.name);
  if (!name.ok) errors.name = name.error;
  const upstream = form.upstream_model.trim();
  if (upstream === "") errors.upstream_model = "Enter the model name the backends expect.";
  else if (upstream.length > MAX_NAME_LENGTH) {
    errors.upstream_model = `Use at most ${MAX_NAME_LENGTH} characters.`;
  }
  if (!(MODEL_KINDS as readonly string[]).includes(form.kind)) {
    errors.kind = "Choose chat, completion or embedding.";
  }
  const context = parseInteger(form.context_length, { min: 1, max: MAX_INT32, optional: true });
  if (!context.ok) errors.context_length = context.error;
  const price = { max: MAX_PRICE_PER_MTOK };
  const input = parseDecimal(form.input_price_per_mtok, price);
  if (!input.ok) errors.input_price_per_mtok = input.error;
  const output = parseDecimal(form.output_price_per_mtok, price);
  if (!output.ok) errors.output_price_per_mtok = output.error;
  const cached = parseDecimal(form.cached_input_price_per_mtok, { ...price, optional: true });
  if (!cached.ok) errors.cached_input_price_per_mtok = cached.error;

  const allRead = name.ok && context.ok && input.ok && output.ok && cached.ok;
  if (!allRead || Object.keys(errors).length > 0) {
    return { ok: false, error: "Some fields are not valid.", errors };
  }
  return {
    ok: true,
    errors,
    value: {
      name: name.value,
      kind: form.kind,
      upstream_model: upstream,
      context_length: context.value,
      input_price_per_mtok: input.value ?? 0,
      output_price_per_mtok: output.value ?? 0,
      cached_input_price_per_mtok: cached.value,
    },
  };
}

/** The fields of `next` that differ from `current`, for a PATCH that changes only those. */
export function changedModelFields(current: ModelFields, next: ModelFields): Partial<ModelFields> {
  const changes: Partial<ModelFields> = {};
  for (const key of Object.keys(next) as (keyof ModelFields)[]) {
    if (current[key] !== next[key]) (changes as Record<string, unknown>)[key] = next[key];
  }
  return changes;
}

export type BackendForm = { url: string; api_key: string; weight: string };
export type BackendFields = { url: string; api_key: string | null; weight: number };

/** A backend's base URL, optional key and weight, or the message of each wrong field. */
export function parseBackend(form: BackendForm): Checked<BackendFields, BackendForm> {
  const errors: FormErrors<BackendForm> = {};
  const url = form.url.trim();
  if (url === "") errors.url = "Enter the backend's base URL, e.g. http://10.0.0.5:8000/v1.";
  else if (!/^https?:\/\/[^\s/]+/i.test(url)) errors.url = "Start with http:// or https:// and a host.";
  else if (/\s/.test(url)) errors.url = "Remove the spaces from the URL.";
  const key = form.api_key.trim();
  if (/\s/.test(key)) errors.api_key = "An API key has no spaces.";
  const weight = parseInteger(form.weight === "" ? "1" : form.weight, { min: 1, max: MAX_WEIGHT });
  if (!weight.ok) errors.weight = weight.error;
  if (!weight.ok || Object.keys(errors).length > 0) {
    return { ok: false, error: "Some fields are not valid.", errors };
  }
  return { ok: true, errors, value: { url, api_key: key === "" ? null : key, weight: weight.value ?? 1 } };
}
