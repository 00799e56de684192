/**
 * What the caller may do to members and invites, as the API decides it
 * (`src/ias/control/permissions.py`): owner ⊃ admin ⊃ member ⊃ viewer. The portal uses it only to
 * hide controls that would surely be refused; the API stays the judge, and its refusal is shown.
 */
import type { OrgRole } from "@/features/auth/use-me";

/** Highest first: the order role pickers list them in. */
export const ROLES: readonly OrgRole[] = ["owner", "admin", "member", "viewer"];

const RANK: Record<OrgRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** Who is acting: their role in the org (null when not a member) and whether they run the platform. */
export type Actor = { role: OrgRole | null; superAdmin: boolean };

export function atLeast(actor: Actor, minimum: OrgRole): boolean {
  if (actor.superAdmin) return true;
  return actor.role !== null && RANK[actor.role] >= RANK[minimum];
}

/** Admins and owners manage members and invites; platform administrators manage every org. */
export function canManageMembers(actor: Actor): boolean {
  return atLeast(actor, "admin");
}

/** Owners rename and delete the organization. */
export function canManageOrg(actor: Actor): boolean {
  return atLeast(actor, "owner");
}

/** Admins and owners read the audit log. */
export function canReadAudit(actor: Actor): boolean {
  return atLeast(actor, "admin");
}

/**
 * Whether the actor may grant `role` (by invite or role change) or act on someone who holds it.
 * Admins manage members and viewers; owners and platform administrators manage everyone.
 */
export function mayAssign(actor: Actor, role: OrgRole): boolean {
  if (actor.superAdmin || actor.role === "owner") return true;
  return actor.role === "admin" && (role === "member" || role === "viewer");
}

/** The roles the actor may grant, highest first; none when they do not manage members. */
export function grantableRoles(actor: Actor): OrgRole[] {
  if (!canManageMembers(actor)) return [];
  return ROLES.filter((role) => mayAssign(actor, role));
}

/** Whether the actor may change the role of, or remove, a member who holds `role`. */
export function canActOn(actor: Actor, role: OrgRole): boolean {
  return canManageMembers(actor) && mayAssign(actor, role);
}

/** The role new invites start with: member when the actor may grant it. */
export function defaultInviteRole(actor: Actor): OrgRole | undefined {
  const roles = grantableRoles(actor);
  return roles.includes("member") ? "member" : roles[roles.length - 1];
}
