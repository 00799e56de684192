import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

export type ApiKey = Schemas["ApiKeyRead"];
export type CreatedKey = Schemas["ApiKeyCreated"];
export type KeyCreate = Schemas["ApiKeyCreate"];
export type CatalogModel = Schemas["CatalogModel"];

export const keysQueryKey = (orgId: string) => ["orgs", orgId, "api-keys"] as const;

/** The org's keys, newest first, without secrets (`GET /api/orgs/{org_id}/api-keys`). */
export function useApiKeys(orgId: string) {
  return useQuery({
    queryKey: keysQueryKey(orgId),
    queryFn: () =>
      unwrap(api.GET("/orgs/{org_id}/api-keys", { params: { path: { org_id: orgId } } })),
  });
}

/**
 * Create a key. The answer carries the secret, the only time it is ever sent: it is handed to
 * the caller and never put in the query cache, so it is gone once the dialog lets go of it.
 */
export function useCreateKey(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: KeyCreate) =>
      unwrap(api.POST("/orgs/{org_id}/api-keys", { params: { path: { org_id: orgId } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keysQueryKey(orgId) }),
  });
}

/** Revoke a key (`DELETE`); it stops working within moments. */
export function useRevokeKey(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keyId: string) =>
      unwrap(
        api.DELETE("/orgs/{org_id}/api-keys/{key_id}", {
          params: { path: { org_id: orgId, key_id: keyId } },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keysQueryKey(orgId) }),
  });
}

/** The models the caller's orgs may use (`GET /api/models`). */
export function useCatalog() {
  return useQuery({
    queryKey: ["models", "catalog"],
    queryFn: () => unwrap(api.GET("/models")),
    select: (catalog) => catalog.data,
    staleTime: 60_000,
  });
}

/** Who is who in the org, to name a key's creator; a failure just leaves the names out. */
export function useMemberNames(orgId: string) {
  return useQuery({
    queryKey: ["orgs", orgId, "members", "names"],
    queryFn: () =>
      unwrap(api.GET("/orgs/{org_id}/members", { params: { path: { org_id: orgId } } })),
    select: (members) => new Map(members.map((m) => [m.user_id, m.name || m.email])),
    staleTime: 60_000,
  });
}
