import { useMe } from "@/features/auth/use-me";
import { useOrg } from "@/features/orgs/api";

import type { Actor } from "./permissions";

/**
 * The signed-in person as an actor in the org: their role there (`GET /api/orgs/{id}`) and
 * whether they are a platform administrator (`GET /api/me`). Undefined while either loads.
 */
export function useActor(orgId: string): Actor | undefined {
  const org = useOrg(orgId);
  const me = useMe();
  if (!org.data || !me.data) return undefined;
  return { role: org.data.role ?? null, superAdmin: me.data.is_super_admin };
}
