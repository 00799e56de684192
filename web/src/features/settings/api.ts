import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { meQueryKey } from "@/features/auth/use-me";
import { orgQueryKey, type Org } from "@/features/orgs/api";
import { api, unwrap, type Schemas } from "@/lib/api";

export type OrgLimitsRead = Schemas["OrgLimitsRead"];

export const limitsQueryKey = (orgId: string) => ["orgs", orgId, "limits"] as const;

const orgPath = (orgId: string) => ({ params: { path: { org_id: orgId } } });

/** The org's limits and what it uses now (`GET /api/orgs/{id}/limits`); refreshed while open. */
export function useOrgLimits(orgId: string) {
  return useQuery({
    queryKey: limitsQueryKey(orgId),
    queryFn: () => unwrap(api.GET("/orgs/{org_id}/limits", orgPath(orgId))),
    refetchInterval: 15_000,
  });
}

/** Rename the organization (`PATCH /api/orgs/{id}`); owners only. */
export function useRenameOrg(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) =>
      unwrap(api.PATCH("/orgs/{org_id}", { ...orgPath(orgId), body: { name } })),
    onSuccess: async (org: Org) => {
      queryClient.setQueryData(orgQueryKey(orgId), org);
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
    },
  });
}

/** Delete the organization with its members, invites and keys (`DELETE /api/orgs/{id}`). */
export function useDeleteOrg(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.DELETE("/orgs/{org_id}", orgPath(orgId))),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ["orgs", orgId] });
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
    },
  });
}
