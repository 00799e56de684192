/**
 * The platform administration calls (super admins only), as TanStack Query hooks. Everything
 * is cached under the `["admin", …]` keys, so a change invalidates exactly its own lists.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { meQueryKey } from "@/features/auth/use-me";
import { api, unwrap, type Schemas } from "@/lib/api";

export type AdminOrg = Schemas["AdminOrgRead"];
export type AdminUser = Schemas["AdminUserRead"];
export type OrgLimitsUpdate = Schemas["OrgLimitsUpdate"];
export type AdminUserUpdate = Schemas["AdminUserUpdate"];

export const PAGE_SIZE = 25;

export const adminKeys = {
  all: ["admin"] as const,
  orgs: ["admin", "orgs"] as const,
  orgsPage: (q: string, cursor: string | null) => ["admin", "orgs", { q, cursor }] as const,
  users: ["admin", "users"] as const,
  usersPage: (q: string, cursor: string | null) => ["admin", "users", { q, cursor }] as const,
  models: ["admin", "models"] as const,
  usage: (params: object) => ["admin", "usage", params] as const,
};

function listQuery(q: string, cursor: string | null) {
  return { q: q.trim() || undefined, cursor: cursor ?? undefined, limit: PAGE_SIZE };
}

/** One page of every organization (`GET /api/admin/orgs`), newest first; `q`: name or slug. */
export function useAdminOrgs(q: string, cursor: string | null) {
  return useQuery({
    queryKey: adminKeys.orgsPage(q, cursor),
    queryFn: () => unwrap(api.GET("/admin/orgs", { params: { query: listQuery(q, cursor) } })),
    placeholderData: keepPreviousData,
  });
}

/** Change some of an org's limits (`PATCH /api/admin/orgs/{id}/limits`); null = no limit. */
export function useUpdateOrgLimits() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ orgId, limits }: { orgId: string; limits: OrgLimitsUpdate }) =>
      unwrap(
        api.PATCH("/admin/orgs/{org_id}/limits", {
          params: { path: { org_id: orgId } },
          body: limits,
        }),
      ),
    onSuccess: async (org) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: adminKeys.orgs }),
        queryClient.invalidateQueries({ queryKey: ["orgs", org.id] }),
      ]);
    },
  });
}

/** One page of every account (`GET /api/admin/users`), newest first; `q`: email or name. */
export function useAdminUsers(q: string, cursor: string | null) {
  return useQuery({
    queryKey: adminKeys.usersPage(q, cursor),
    queryFn: () => unwrap(api.GET("/admin/users", { params: { query: listQuery(q, cursor) } })),
    placeholderData: keepPreviousData,
  });
}

/** Disable or enable an account, or grant or revoke super admin (`PATCH /api/admin/users/{id}`). */
export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, changes }: { userId: string; changes: AdminUserUpdate }) =>
      unwrap(
        api.PATCH("/admin/users/{user_id}", {
          params: { path: { user_id: userId } },
          body: changes,
        }),
      ),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: adminKeys.users }),
        queryClient.invalidateQueries({ queryKey: meQueryKey }),
      ]);
    },
  });
}
