import type { OrgRole } from "@/features/auth/use-me";

import type { ApiKey } from "./api";

/**
 * What the page offers, mirroring the API's rules so nothing is shown that would surely be
 * refused; the API still decides. `role` null is a super admin who is not a member.
 */
export function canCreateKeys(role: OrgRole | null): boolean {
  return role !== "viewer";
}

export function canRevokeKey(key: ApiKey, role: OrgRole | null, userId: string | undefined): boolean {
  if (key.status === "revoked") return false;
  if (role === null || role === "owner" || role === "admin") return true;
  return role === "member" && userId !== undefined && key.created_by === userId;
}
