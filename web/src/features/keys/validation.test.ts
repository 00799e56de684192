import { describe, expect, it } from "vitest";

import { canCreateKeys, canRevokeKey } from "./permissions";
import { validateKeyForm, type KeyForm } from "./validation";
import type { ApiKey } from "./api";

const NOW = new Date("2025-03-15T10:00:00Z");
const FORM: KeyForm = { name: " backend ", models: null, rpm: "", tpm: "", concurrency: "", expiresAt: "" };

describe("validateKeyForm", () => {
  it("sends nulls for what is left empty, and a trimmed name", () => {
    expect(validateKeyForm(FORM, NOW)).toEqual({
      ok: true,
      body: { name: "backend", models: null, rpm_limit: null, tpm_limit: null, concurrency_limit: null, expires_at: null },
    });
  });

  it("sends the limits, the models and the expiry in UTC", () => {
    const result = validateKeyForm(
      { ...FORM, models: ["demo-chat"], rpm: "60", tpm: "10000", concurrency: "2", expiresAt: "2030-01-01T12:00" },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      body: {
        name: "backend",
        models: ["demo-chat"],
        rpm_limit: 60,
        tpm_limit: 10000,
        concurrency_limit: 2,
        expires_at: new Date("2030-01-01T12:00").toISOString(),
      },
    });
  });

  it("says what to fix before anything is sent", () => {
    const result = validateKeyForm(
      { name: "  ", models: [], rpm: "0", tpm: "1.5", concurrency: "99999999999", expiresAt: "2020-01-01T00:00" },
      NOW,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(["concurrency", "expiresAt", "models", "name", "rpm", "tpm"]);
    expect(result.errors.tpm).toBe("Tokens per minute must be a whole number.");
  });
});

describe("key permissions", () => {
  const key = { status: "active", created_by: "me" } as ApiKey;
  it("follow the API: viewers create nothing, members revoke their own, admins all", () => {
    expect(canCreateKeys("viewer")).toBe(false);
    expect(canCreateKeys("member")).toBe(true);
    expect(canCreateKeys(null)).toBe(true);
    expect(canRevokeKey(key, "member", "me")).toBe(true);
    expect(canRevokeKey(key, "member", "someone else")).toBe(false);
    expect(canRevokeKey(key, "viewer", "me")).toBe(false);
    expect(canRevokeKey(key, "admin", "someone else")).toBe(true);
    expect(canRevokeKey({ ...key, status: "revoked" }, "owner", "me")).toBe(false);
  });
});
