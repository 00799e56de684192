import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { meQueryKey } from "@/features/auth/use-me";
import { api, unwrap, type Schemas } from "@/lib/api";

export type Org = Schemas["OrgRead"];

export const orgQueryKey = (orgId: string) => ["orgs", orgId] as const;

/** One organization (`GET /api/orgs/{org_id}`); 404 when it is not yours. */
export function useOrg(orgId: string) {
  return useQuery({
    queryKey: orgQueryKey(orgId),
    queryFn: () => unwrap(api.GET("/orgs/{org_id}", { params: { path: { org_id: orgId } } })),
  });
}

/** Create an organization (`POST /api/orgs`); you become its owner. */
export function useCreateOrg() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(api.POST("/orgs", { body: { name } })),
    onSuccess: async (org) => {
      queryClient.setQueryData(orgQueryKey(org.id), org);
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
    },
  });
}
