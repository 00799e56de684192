/** Audit entries in words: what happened, to what, and the details that matter. */
import { formatDateTime } from "@/lib/format";

import type { AuditEntry } from "./api";

const ACTIONS: Record<string, string> = {
  "org.created": "Created the organization",
  "org.renamed": "Renamed the organization",
  "org.deleted": "Deleted the organization",
  "org.limits_changed": "Changed the limits",
  "member.role_changed": "Changed a role",
  "member.removed": "Removed a member",
  "member.left": "Left the organization",
  "invite.created": "Invited someone",
  "invite.revoked": "Revoked an invite",
  "invite.accepted": "Accepted an invite",
  "api_key.created": "Created an API key",
  "api_key.revoked": "Revoked an API key",
};

/** A sentence for a known action; the action's own name otherwise. */
export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return ISO_DATETIME.test(value) ? formatDateTime(value) : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The entry's details as `key: value` pairs; a role change reads `from → to`. */
export function detailPairs(details: Record<string, unknown>): [string, string][] {
  const rest = { ...details };
  const pairs: [string, string][] = [];
  if ("from" in rest && "to" in rest) {
    pairs.push(["change", `${valueText(rest.from)} → ${valueText(rest.to)}`]);
    delete rest.from;
    delete rest.to;
  }
  for (const [key, value] of Object.entries(rest)) pairs.push([key.replace(/_/g, " "), valueText(value)]);
  return pairs;
}

/**
 * What the entry acted on: a person by name when `people` knows their id, an invite by its
 * email, else the type and a short id.
 */
export function targetLabel(entry: AuditEntry, people: ReadonlyMap<string, string>): string {
  if (!entry.target_type) return "—";
  if (entry.target_type === "user" && entry.target_id) {
    const person = people.get(entry.target_id);
    if (person) return person;
  }
  if (entry.target_type === "invite" && typeof entry.details.email === "string") {
    return `invite for ${entry.details.email}`;
  }
  if (entry.target_type === "org") return "the organization";
  return entry.target_id ? `${entry.target_type} ${entry.target_id.slice(0, 8)}` : entry.target_type;
}
