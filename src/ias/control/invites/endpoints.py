"""`/api/orgs/{org_id}/invites` and `/api/invites/{token}`: HTTP only; rules live in `service`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, status

from ias.control.auth.service import Principal, authenticate
from ias.control.deps import (
    ClientIp,
    ContextDep,
    CurrentOrg,
    SessionDep,
    bearer_token,
)
from ias.control.invites import service
from ias.control.invites.schemas import (
    InviteAccepted,
    InviteAcceptNewAccount,
    InviteCreate,
    InviteCreated,
    InvitePreview,
    InviteRead,
    InviteStatus,
)
from ias.models import Invite

router = APIRouter(tags=["invites"])


async def optional_principal(
    request: Request, context: ContextDep, session: SessionDep
) -> Principal | None:
    """The signed-in caller, or None without an Authorization header; a bad token is still 401."""
    if "authorization" not in request.headers:
        return None
    return await authenticate(context, session, bearer_token(request))


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def invite_read(invite: Invite, invite_status: InviteStatus) -> InviteRead:
    return InviteRead(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        status=invite_status,
        created_by=invite.created_by,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        accepted_at=invite.accepted_at,
        accepted_by=invite.accepted_by,
        revoked_at=invite.revoked_at,
    )


@router.post(
    "/orgs/{org_id}/invites", response_model=InviteCreated, status_code=status.HTTP_201_CREATED
)
async def create_invite(
    body: InviteCreate, access: CurrentOrg, context: ContextDep, session: SessionDep, ip: ClientIp
) -> InviteCreated:
    """Invite an email into the organization with a role no higher than your own.

    Admins invite members and viewers; owners invite anyone. The invite expires after 7 days.
    `token` and `url` appear only in this response: send the `url` to the invitee. 409 when
    the email is already a member, or already has an open invite (revoke that one first)."""
    invite, token = await service.create_invite(context, session, access, body.email, body.role, ip)
    return InviteCreated(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        url=service.invite_url(context, token),
        token=token,
        expires_at=invite.expires_at,
        created_at=invite.created_at,
    )


@router.get("/orgs/{org_id}/invites", response_model=list[InviteRead])
async def list_invites(access: CurrentOrg, session: SessionDep) -> list[InviteRead]:
    """Open invites, and those accepted, revoked or expired in the last 30 days; newest first.

    Tokens are never shown again."""
    return [invite_read(i, s) for i, s in await service.list_invites(session, access)]


@router.delete("/orgs/{org_id}/invites/{invite_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invite(
    invite_id: uuid.UUID, access: CurrentOrg, session: SessionDep, ip: ClientIp
) -> Response:
    """Revoke an invite so its link stops working; revoking it again is a no-op.

    409 when it was already accepted (remove the member instead)."""
    await service.revoke_invite(session, access, invite_id, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/invites/{token}", response_model=InvitePreview)
async def preview_invite(token: str, session: SessionDep) -> InvitePreview:
    """What an invite link offers; needs no sign-in, the token is the credential.

    `account_exists` tells whether to sign in (then accept with no body) or to create the
    account (accept with `{name, password}`)."""
    found = await service.preview(session, token)
    invite = found.invite
    return InvitePreview(
        org_name=found.org.name,
        email=invite.email,
        role=invite.role,
        expires_at=invite.expires_at,
        status=found.status,
        account_exists=found.account_exists,
    )


@router.post("/invites/{token}/accept", response_model=InviteAccepted)
async def accept_invite(
    token: str,
    principal: OptionalPrincipal,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
    body: Annotated[InviteAcceptNewAccount | None, Body()] = None,
) -> InviteAccepted:
    """Join the organization through an invite; each invite works once.

    Not signed in: send `{name, password}` to create the account for the invited email (400
    `weak_password` when the policy refuses it; 409 `account_exists` when the email has an
    account: sign in instead). Signed in: send no body; your email must be the invited one (403
    `invite_email_mismatch`), and 409 `already_member` if you are in the org already. An invite
    that was used, revoked or has expired is 409 with code `invite_used`, `invite_revoked` or
    `invite_expired`. Unknown token: 404."""
    joined = await service.accept(context, session, token, principal, body, ip)
    return InviteAccepted(
        org_id=joined.org.id, org_name=joined.org.name, role=joined.role, user_id=joined.user_id
    )
