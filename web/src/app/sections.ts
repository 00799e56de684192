import type { LucideIcon } from "lucide-react";

import type { OrgRole } from "@/features/auth/use-me";

/**
 * The sections of an organization, as the sidebar and the org home list them.
 *
 * Only built sections are listed, so nothing links to a page that does not exist. A feature
 * adds its entry here together with its route in `app/routes.tsx`.
 */
export type OrgSection = {
  /** Path below `/orgs/:orgId`, without a leading slash (`"keys"`). */
  path: string;
  title: string;
  description: string;
  icon: LucideIcon;
  /** The roles that see it; absent: every member. Super admins see every section. */
  roles?: readonly OrgRole[];
};

export const ORG_SECTIONS: readonly OrgSection[] = [];

/** The sections a person with `role` (null: a super admin who is not a member) may open. */
export function visibleSections(
  role: OrgRole | null,
  sections: readonly OrgSection[] = ORG_SECTIONS,
): OrgSection[] {
  return sections.filter((s) => role === null || !s.roles || s.roles.includes(role));
}
