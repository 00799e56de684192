import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { meQueryKey, type OrgRole } from "@/features/auth/use-me";
import { api, unwrap, type Schemas } from "@/lib/api";

export type Member = Schemas["MemberRead"];
export type Invite = Schemas["InviteRead"];
export type CreatedInvite = Schemas["InviteCreated"];

export const membersQueryKey = (orgId: string) => ["orgs", orgId, "members"] as const;
export const invitesQueryKey = (orgId: string) => ["orgs", orgId, "invites"] as const;

const orgPath = (orgId: string) => ({ params: { path: { org_id: orgId } } });

/** Everyone in the organization (`GET /api/orgs/{id}/members`); any member may read it. */
export function useMembers(orgId: string) {
  return useQuery({
    queryKey: membersQueryKey(orgId),
    queryFn: () => unwrap(api.GET("/orgs/{org_id}/members", orgPath(orgId))),
  });
}

/** Change a member's role (`PATCH …/members/{user_id}`). */
export function useChangeRole(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: OrgRole }) =>
      unwrap(
        api.PATCH("/orgs/{org_id}/members/{user_id}", {
          params: { path: { org_id: orgId, user_id: userId } },
          body: { role },
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData<Member[]>(membersQueryKey(orgId), (members) =>
        members?.map((m) => (m.user_id === updated.user_id ? updated : m)),
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: membersQueryKey(orgId) }),
  });
}

/** Remove a member, or leave when it is your own user id (`DELETE …/members/{user_id}`). */
export function useRemoveMember(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) =>
      unwrap(
        api.DELETE("/orgs/{org_id}/members/{user_id}", {
          params: { path: { org_id: orgId, user_id: userId } },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: membersQueryKey(orgId) });
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
    },
  });
}

/** Open and recent invites (`GET /api/orgs/{id}/invites`); admins and owners only. */
export function useInvites(orgId: string, enabled: boolean) {
  return useQuery({
    queryKey: invitesQueryKey(orgId),
    queryFn: () => unwrap(api.GET("/orgs/{org_id}/invites", orgPath(orgId))),
    enabled,
  });
}

/** Invite an email with a role (`POST …/invites`); the answer holds the only copy of the token. */
export function useCreateInvite(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: OrgRole }) =>
      unwrap(api.POST("/orgs/{org_id}/invites", { ...orgPath(orgId), body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: invitesQueryKey(orgId) }),
  });
}

/** Revoke an invite so its link stops working (`DELETE …/invites/{invite_id}`). */
export function useRevokeInvite(orgId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (inviteId: string) =>
      unwrap(
        api.DELETE("/orgs/{org_id}/invites/{invite_id}", {
          params: { path: { org_id: orgId, invite_id: inviteId } },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: invitesQueryKey(orgId) }),
  });
}
