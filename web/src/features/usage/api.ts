import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

import type { UsageQuery } from "./range";

export type UsageReport = Schemas["UsageReportRead"];
export type UsageRow = Schemas["UsageRow"];
export type GroupBy = "model" | "api_key";

export const usageQueryKey = (orgId: string) => ["orgs", orgId, "usage"] as const;

/**
 * The org's usage report (`GET /api/orgs/{org_id}/usage`). Members and viewers get only the
 * usage of the keys they created: the API filters, the page says so. While a new range loads,
 * the previous report stays on screen.
 */
export function useUsage(orgId: string, query: UsageQuery | null, groupBy: GroupBy) {
  return useQuery({
    queryKey: [...usageQueryKey(orgId), query, groupBy],
    queryFn: () =>
      unwrap(
        api.GET("/orgs/{org_id}/usage", {
          params: { path: { org_id: orgId }, query: { ...query!, group_by: groupBy } },
        }),
      ),
    enabled: query !== null,
    placeholderData: keepPreviousData,
  });
}
