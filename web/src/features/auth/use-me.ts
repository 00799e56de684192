import { useQuery } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

import { useAuth } from "./auth-context";

export type Me = Schemas["MeRead"];
export type Membership = Schemas["MembershipRead"];
export type OrgRole = Schemas["OrgRole"];

export const meQueryKey = ["me"] as const;

/** The signed-in person and their memberships (`GET /api/me`). */
export function useMe() {
  const { status } = useAuth();
  return useQuery({
    queryKey: meQueryKey,
    queryFn: () => unwrap(api.GET("/me")),
    enabled: status === "signed-in",
    staleTime: 30_000,
  });
}
