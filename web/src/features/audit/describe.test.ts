import { describe, expect, it } from "vitest";

import type { AuditEntry } from "./api";
import { actionLabel, detailPairs, targetLabel } from "./describe";

function entry(overrides: Partial<AuditEntry>): AuditEntry {
  return {
    id: "e1",
    at: "2025-01-01T00:00:00Z",
    actor_user_id: "u1",
    actor_email: "ada@example.com",
    org_id: "o1",
    action: "member.role_changed",
    target_type: "user",
    target_id: "u2",
    ip: null,
    details: {},
    ...overrides,
  };
}

describe("audit entries in words", () => {
  it("names known actions and keeps unknown ones as they are", () => {
    expect(actionLabel("invite.created")).toBe("Invited someone");
    expect(actionLabel("model.deleted")).toBe("model.deleted");
  });

  it("reads a change as from → to, and other details as pairs", () => {
    expect(detailPairs({ from: "member", to: "admin" })).toEqual([["change", "member → admin"]]);
    expect(detailPairs({ role: "viewer", keys_revoked: 2, extra: { a: 1 } })).toEqual([
      ["role", "viewer"],
      ["keys revoked", "2"],
      ["extra", '{"a":1}'],
    ]);
  });

  it("names the target: a known person, an invite's email, else type and short id", () => {
    const people = new Map([["u2", "Bob (bob@example.com)"]]);
    expect(targetLabel(entry({}), people)).toBe("Bob (bob@example.com)");
    expect(
      targetLabel(entry({ target_type: "invite", target_id: "i1", details: { email: "c@x.io" } }), people),
    ).toBe("invite for c@x.io");
    expect(targetLabel(entry({ target_type: "api_key", target_id: "0123456789abcdef" }), people)).toBe(
      "api_key 01234567",
    );
    expect(targetLabel(entry({ target_type: null, target_id: null }), people)).toBe("—");
  });
});
