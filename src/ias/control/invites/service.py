"""Invites: single-use, expiring links that let one email join an org in one role.

Rules:

* Only those who may manage invites create, list or revoke them, and nobody invites anyone
  into a role above their own (`permissions.may_assign`): an admin invites members and
  viewers, an owner anyone. The accepted membership has exactly the invite's role.
* The token is shown once, at creation; only its SHA-256 is stored, so the table alone lets
  nobody in. One email has at most one open invite per org: revoke it to send another.
* An invite is accepted once. The claim is a guarded UPDATE, so of two concurrent
  acceptances exactly one succeeds. An invite that was used, revoked or has expired is refused
  with 409 and a code saying which (`invite_used`, `invite_revoked`, `invite_expired`): the
  request was well formed, the invite is simply no longer in a state that admits it.
* Accepting either creates the account for the invited email (anonymous, with a name and a
  password) or adds the signed-in user whose email is the invited one (no body).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ias.bootstrap import normalize_email
from ias.control.audit.service import Actor, record
from ias.control.auth.service import Principal
from ias.control.context import ControlContext
from ias.control.invites import repository
from ias.control.invites.schemas import InviteAcceptNewAccount, InviteStatus
from ias.control.permissions import Action, Role, may_assign
from ias.control.scoping import OrgAccess
from ias.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from ias.kit.clock import as_utc, utcnow
from ias.kit.ids import uuid7
from ias.kit.passwords import password_problem
from ias.models import Invite, Membership, Org, User

INVITE_TTL = timedelta(days=7)
# Settled invites (accepted, revoked, expired) stay listed this long, then drop off the list.
RECENT_INVITES = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Preview:
    invite: Invite
    org: Org
    status: InviteStatus
    account_exists: bool


@dataclass(frozen=True, slots=True)
class Acceptance:
    org: Org
    role: Role
    user_id: uuid.UUID


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits; a plain digest is enough to make a leaked table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def status_of(invite: Invite, now: datetime) -> InviteStatus:
    if invite.accepted_at is not None:
        return InviteStatus.ACCEPTED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if as_utc(invite.expires_at) <= now:
        return InviteStatus.EXPIRED
    return InviteStatus.PENDING


def _ensure_open(invite: Invite, now: datetime) -> None:
    status = status_of(invite, now)
    if status is InviteStatus.ACCEPTED:
        raise Conflict("This invite was already used.", code="invite_used")
    if status is InviteStatus.REVOKED:
        raise Conflict(
            "This invite was revoked; ask the organization for a new one.", code="invite_revoked"
        )
    if status is InviteStatus.EXPIRED:
        raise Conflict(
            "This invite has expired; ask the organization for a new one.", code="invite_expired"
        )


def _require_assign(access: OrgAccess, role: Role, verb: str) -> None:
    access.require(Action.INVITES_MANAGE)
    if not may_assign(access.role, role, super_admin=access.super_admin):
        raise PermissionDenied(
            f"Your role '{access.role}' cannot {verb} the role '{role}': admins invite "
            "members and viewers; owners invite anyone.",
            param="role",
        )


def _email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except InvalidRequest:
        raise InvalidRequest(
            f"{raw!r} is not an email address; give one like name@example.com.",
            param="email",
            code="invalid_email",
        ) from None


async def create_invite(
    context: ControlContext,
    session: AsyncSession,
    access: OrgAccess,
    raw_email: str,
    role: Role,
    ip: str | None,
) -> tuple[Invite, str]:
    """The new invite and its token (the only time the token exists in clear)."""
    _require_assign(access, role, "invite someone into")
    email, org_id, now = _email(raw_email), access.org.id, utcnow()
    if await repository.email_is_member(session, org_id, email):
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    if await repository.open_invite_exists(session, org_id, email, now):
        raise Conflict(
            f"{email} already has an open invite to this organization; revoke it first to "
            "send a new one.",
            code="invite_pending",
        )
    token = secrets.token_urlsafe(32)
    invite = Invite(
        id=uuid7(),
        org_id=org_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        created_by=access.user_id,
        expires_at=now + INVITE_TTL,
        created_at=now,
    )
    await repository.add_invite(session, invite)
    await record(
        session,
        Actor(access.user_id, ip),
        "invite.created",
        org_id=org_id,
        target_type="invite",
        target_id=invite.id,
        details={"email": email, "role": role.value, "expires_at": invite.expires_at.isoformat()},
    )
    return invite, token


def invite_url(context: ControlContext, token: str) -> str:
    return f"{context.settings.control.public_url.rstrip('/')}/invites/{token}"


async def list_invites(
    session: AsyncSession, access: OrgAccess
) -> list[tuple[Invite, InviteStatus]]:
    access.require(Action.INVITES_MANAGE)
    now = utcnow()
    invites = await repository.recent_invites(session, access.org.id, now - RECENT_INVITES, now)
    return [(invite, status_of(invite, now)) for invite in invites]


async def revoke_invite(
    session: AsyncSession, access: OrgAccess, invite_id: uuid.UUID, ip: str | None
) -> None:
    """Revoke an invite that was not used yet; revoking it again changes nothing."""
    access.require(Action.INVITES_MANAGE)
    invite = await repository.invite_in_org(session, access.org.id, invite_id)
    if invite is None:
        raise NotFound("No such invite in this organization.", param="invite_id")
    _require_assign(access, invite.role, "revoke invites for")
    if not await repository.revoke(session, invite.id, utcnow()):
        await repository.reload(session, invite)
        if invite.accepted_at is not None:
            raise Conflict(
                "This invite was already accepted; remove the member instead.", code="invite_used"
            )
        return
    await record(
        session,
        Actor(access.user_id, ip),
        "invite.revoked",
        org_id=access.org.id,
        target_type="invite",
        target_id=invite.id,
        details={"email": invite.email, "role": invite.role.value},
    )


async def _find(session: AsyncSession, token: str) -> tuple[Invite, Org]:
    invite = await repository.invite_by_token_hash(session, token_hash(token))
    org = await repository.org_by_id(session, invite.org_id) if invite is not None else None
    if invite is None or org is None:
        raise NotFound("No such invite: check that the link was copied whole.", param="token")
    return invite, org


async def preview(session: AsyncSession, token: str) -> Preview:
    invite, org = await _find(session, token)
    account = await repository.user_by_email(session, invite.email)
    return Preview(invite, org, status_of(invite, utcnow()), account is not None)


async def accept(
    context: ControlContext,
    session: AsyncSession,
    token: str,
    principal: Principal | None,
    new_account: InviteAcceptNewAccount | None,
    ip: str | None,
) -> Acceptance:
    if principal is not None:
        if new_account is not None:
            raise InvalidRequest(
                "You are signed in, so the invite is accepted for your account: send no body.",
                param="body",
                code="unexpected_body",
            )
        return await _accept_as(session, token, principal.user, ip)
    if new_account is None:
        raise InvalidRequest(
            "Send {name, password} to create your account, or sign in and send no body to "
            "accept with the account you have.",
            param="body",
            code="missing_body",
        )
    return await _accept_with_new_account(context, session, token, new_account, ip)


async def _claim(session: AsyncSession, invite: Invite, accepted_by: uuid.UUID | None) -> None:
    now = utcnow()
    if not await repository.claim(session, invite.id, now, accepted_by):
        await repository.reload(session, invite)
        _ensure_open(invite, now)
        raise Conflict("This invite was already used.", code="invite_used")


async def _accept_as(session: AsyncSession, token: str, user: User, ip: str | None) -> Acceptance:
    invite, org = await _find(session, token)
    _ensure_open(invite, utcnow())
    if user.email.lower() != invite.email.lower():
        raise PermissionDenied(
            f"This invite is for {invite.email}, but you are signed in as {user.email}: "
            "sign in with the invited email to accept it.",
            code="invite_email_mismatch",
        )
    if await repository.is_member(session, org.id, user.id):
        raise Conflict("You are already a member of this organization.", code="already_member")
    await _claim(session, invite, user.id)
    return await _join(session, invite, org, user.id, ip, new_account=False)


async def _accept_with_new_account(
    context: ControlContext,
    session: AsyncSession,
    token: str,
    body: InviteAcceptNewAccount,
    ip: str | None,
) -> Acceptance:
    invite, org = await _find(session, token)
    _ensure_open(invite, utcnow())
    if await repository.user_by_email(session, invite.email) is not None:
        raise Conflict(
            f"An account for {invite.email} already exists: sign in, then accept the invite.",
            code="account_exists",
        )
    name = body.name.strip()
    if not name:
        raise InvalidRequest("name must not be blank.", param="name")
    problem = password_problem(body.password, email=invite.email)
    if problem is not None:
        raise InvalidRequest(
            problem[0].upper() + problem[1:] + ".", param="password", code="weak_password"
        )
    # Hash before claiming: the claim holds a row lock until commit, the hash takes a while.
    password_hash = await context.passwords.hash(body.password)
    await _claim(session, invite, None)
    now = utcnow()
    user = User(
        id=uuid7(),
        email=invite.email,
        password_hash=password_hash,
        name=name,
        disabled=False,
        is_super_admin=False,
        created_at=now,
        updated_at=now,
    )
    await repository.add_user(session, user)
    await repository.set_accepted_by(session, invite.id, user.id)
    return await _join(session, invite, org, user.id, ip, new_account=True)


async def _join(
    session: AsyncSession,
    invite: Invite,
    org: Org,
    user_id: uuid.UUID,
    ip: str | None,
    *,
    new_account: bool,
) -> Acceptance:
    membership = Membership(org_id=org.id, user_id=user_id, role=invite.role, created_at=utcnow())
    await repository.add_membership(session, membership)
    await record(
        session,
        Actor(user_id, ip),
        "invite.accepted",
        org_id=org.id,
        target_type="invite",
        target_id=invite.id,
        details={"email": invite.email, "role": invite.role.value, "new_account": new_account},
    )
    return Acceptance(org=org, role=invite.role, user_id=user_id)
