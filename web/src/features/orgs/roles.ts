import type { OrgRole } from "@/features/auth/use-me";

export const ROLE_LABELS: Record<OrgRole, string> = {
  owner: "Owner",
  admin: "Admin",
  member: "Member",
  viewer: "Viewer",
};

/** What each role may do, as the API enforces it. */
export const ROLE_SUMMARIES: Record<OrgRole, string> = {
  owner: "You can do everything here, including renaming or deleting the organization and managing its admins.",
  admin: "You manage members and invites, see every API key, all usage and the audit log.",
  member: "You create and revoke your own API keys and see your own usage.",
  viewer: "You can look around; changes need a member, an admin or an owner.",
};
