import { describe, expect, it } from "vitest";

import type { OrgRole } from "@/features/auth/use-me";

import {
  canActOn,
  canManageMembers,
  canManageOrg,
  canReadAudit,
  defaultInviteRole,
  grantableRoles,
  type Actor,
} from "./permissions";

const as = (role: OrgRole | null, superAdmin = false): Actor => ({ role, superAdmin });

describe("the roles an actor may grant", () => {
  it("owners grant every role, highest first", () => {
    expect(grantableRoles(as("owner"))).toEqual(["owner", "admin", "member", "viewer"]);
  });

  it("admins grant members and viewers, never admin or owner", () => {
    expect(grantableRoles(as("admin"))).toEqual(["member", "viewer"]);
  });

  it("members and viewers grant nothing", () => {
    expect(grantableRoles(as("member"))).toEqual([]);
    expect(grantableRoles(as("viewer"))).toEqual([]);
  });

  it("platform administrators grant every role, member of the org or not", () => {
    expect(grantableRoles(as(null, true))).toEqual(["owner", "admin", "member", "viewer"]);
    expect(grantableRoles(as("viewer", true))).toEqual(["owner", "admin", "member", "viewer"]);
  });

  it("new invites start as member whenever that may be granted", () => {
    expect(defaultInviteRole(as("owner"))).toBe("member");
    expect(defaultInviteRole(as("admin"))).toBe("member");
    expect(defaultInviteRole(as("member"))).toBeUndefined();
  });
});

describe("who may act on whom", () => {
  it("admins act on members and viewers, not on admins or owners", () => {
    const admin = as("admin");
    expect(canActOn(admin, "member")).toBe(true);
    expect(canActOn(admin, "viewer")).toBe(true);
    expect(canActOn(admin, "admin")).toBe(false);
    expect(canActOn(admin, "owner")).toBe(false);
  });

  it("owners act on everyone; members on nobody", () => {
    expect(canActOn(as("owner"), "owner")).toBe(true);
    expect(canActOn(as("member"), "viewer")).toBe(false);
  });

  it("matches the API's matrix for the org-wide actions", () => {
    const table = (["owner", "admin", "member", "viewer"] as const).map((role) => [
      role,
      canManageMembers(as(role)),
      canReadAudit(as(role)),
      canManageOrg(as(role)),
    ]);
    expect(table).toEqual([
      ["owner", true, true, true],
      ["admin", true, true, false],
      ["member", false, false, false],
      ["viewer", false, false, false],
    ]);
    expect(canManageOrg(as(null))).toBe(false);
    expect(canManageOrg(as(null, true))).toBe(true);
  });
});
