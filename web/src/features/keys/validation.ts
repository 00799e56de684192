import type { KeyCreate } from "./api";

/** The create form as typed: text fields, checked model names, a local date-time. */
export type KeyForm = {
  name: string;
  /** null: every model, now and later. */
  models: string[] | null;
  rpm: string;
  tpm: string;
  concurrency: string;
  /** `<input type="datetime-local">`: local time, `YYYY-MM-DDTHH:mm`; empty for none. */
  expiresAt: string;
};

export type KeyFormErrors = Partial<Record<"name" | "models" | "rpm" | "tpm" | "concurrency" | "expiresAt", string>>;

export const MAX_NAME_LENGTH = 200;
const MAX_LIMIT = 2_147_483_647;

function limit(value: string, label: string): { value: number | null } | { error: string } {
  const text = value.trim();
  if (text === "") return { value: null };
  if (!/^\d+$/.test(text)) return { error: `${label} must be a whole number.` };
  const number = Number(text);
  if (number < 1) return { error: `${label} must be at least 1, or empty for the organization's.` };
  if (number > MAX_LIMIT) return { error: `${label} must be at most ${MAX_LIMIT.toLocaleString()}.` };
  return { value: number };
}

/** The request body, or what to fix; checked the way the API checks, before sending. */
export function validateKeyForm(
  form: KeyForm,
  now: Date,
): { ok: true; body: KeyCreate } | { ok: false; errors: KeyFormErrors } {
  const errors: KeyFormErrors = {};
  const name = form.name.trim();
  if (name === "") errors.name = "Give the key a name, so you can tell it apart later.";
  else if (name.length > MAX_NAME_LENGTH) errors.name = `At most ${MAX_NAME_LENGTH} characters.`;

  if (form.models !== null && form.models.length === 0) {
    errors.models = "Choose at least one model, or allow all models.";
  }

  const rpm = limit(form.rpm, "Requests per minute");
  const tpm = limit(form.tpm, "Tokens per minute");
  const concurrency = limit(form.concurrency, "Concurrent requests");
  if ("error" in rpm) errors.rpm = rpm.error;
  if ("error" in tpm) errors.tpm = tpm.error;
  if ("error" in concurrency) errors.concurrency = concurrency.error;

  let expiresAt: string | null = null;
  if (form.expiresAt !== "") {
    const date = new Date(form.expiresAt);
    if (Number.isNaN(date.getTime())) errors.expiresAt = "Not a valid date and time.";
    else if (date <= now) errors.expiresAt = "Pick a time in the future, or leave it empty.";
    else expiresAt = date.toISOString();
  }

  if (Object.keys(errors).length > 0 || "error" in rpm || "error" in tpm || "error" in concurrency) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    body: {
      name,
      models: form.models,
      rpm_limit: rpm.value,
      tpm_limit: tpm.value,
      concurrency_limit: concurrency.value,
      expires_at: expiresAt,
    },
  };
}
