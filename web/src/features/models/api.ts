import { useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

export type CatalogModel = Schemas["CatalogModel"];

export const catalogQueryKey = ["models", "catalog"] as const;

/** The models the caller's organizations may use, with prices and context length (`GET /api/models`). */
export function useCatalog() {
  return useQuery({
    queryKey: catalogQueryKey,
    queryFn: () => unwrap(api.GET("/models")),
    staleTime: 60_000,
  });
}
