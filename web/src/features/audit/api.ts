import { useInfiniteQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

export type AuditEntry = Schemas["AuditEntryRead"];

export const AUDIT_PAGE_SIZE = 50;

export const auditQueryKey = (orgId: string) => ["orgs", orgId, "audit"] as const;

/** The org's audit log, newest first, a page at a time (`GET /api/orgs/{id}/audit`). */
export function useAuditLog(orgId: string) {
  return useInfiniteQuery({
    queryKey: auditQueryKey(orgId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/orgs/{org_id}/audit", {
          params: {
            path: { org_id: orgId },
            query: { limit: AUDIT_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor,
  });
}
