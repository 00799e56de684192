import {
  BoxesIcon,
  ChartColumnIcon,
  KeyRoundIcon,
  MessagesSquareIcon,
  ScrollTextIcon,
  SettingsIcon,
  UsersIcon,
  type LucideIcon,
} from "lucide-react";

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

export const ORG_SECTIONS: readonly OrgSection[] = [
  {
    path: "usage",
    title: "Usage",
    description: "Requests, tokens and cost over time, by model and by key.",
    icon: ChartColumnIcon,
  },
  {
    path: "keys",
    title: "API keys",
    description: "Keys for the OpenAI-compatible API: create, limit, revoke.",
    icon: KeyRoundIcon,
  },
  {
    path: "playground",
    title: "Playground",
    description: "Chat with a model, streamed, to try a key and a prompt.",
    icon: MessagesSquareIcon,
  },
  {
    path: "members",
    title: "Members",
    description: "Who is in the organization, their roles, and invites.",
    icon: UsersIcon,
  },
  {
    path: "models",
    title: "Models",
    description: "The models you can call, their prices, and code to call them.",
    icon: BoxesIcon,
  },
  {
    path: "settings",
    title: "Settings",
    description: "The name, the limits and what is used of them.",
    icon: SettingsIcon,
  },
  {
    path: "audit",
    title: "Audit log",
    description: "Who changed what, and when.",
    icon: ScrollTextIcon,
    roles: ["owner", "admin"],
  },
];

/** The sections a person with `role` (null: a super admin who is not a member) may open. */
export function visibleSections(
  role: OrgRole | null,
  sections: readonly OrgSection[] = ORG_SECTIONS,
): OrgSection[] {
  return sections.filter((s) => role === null || !s.roles || s.roles.includes(role));
}
