"""Organizations and their members.

Rules: whoever creates an org owns it; only owners rename or delete it; admins manage members
and viewers, owners manage everyone (`permissions.may_assign`). An org always keeps at least
one owner: the last owner can neither leave, be removed, nor be demoted. A member who leaves
or is removed loses the API keys they created in that org, since a key never grants more
than its creator holds.
"""

from __future__ import annotations

import re
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.audit.service import Actor, record
from ias.control.auth.service import Principal
from ias.control.context import ControlContext
from ias.control.events import invalidate_keys
from ias.control.orgs import repository
from ias.control.permissions import Action, Role, may_assign
from ias.control.scoping import OrgAccess
from ias.errors import Conflict, NotFound, PermissionDenied, Unavailable
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.limits.types import Kind
from ias.models import Membership, Org, OrgModelLimit, User

MAX_SLUG_LENGTH = 48


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG_LENGTH].strip("-")
    return slug or "org"


async def _free_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug = base
    while await repository.slug_taken(session, slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


async def create_org(
    context: ControlContext, session: AsyncSession, principal: Principal, name: str, ip: str | None
) -> Org:
    if not context.settings.control.allow_org_creation and not principal.user.is_super_admin:
        raise PermissionDenied(
            "Creating organizations is turned off on this platform; ask a super admin.",
            code="org_creation_disabled",
        )
    now = utcnow()
    org = Org(
        id=uuid7(),
        name=name.strip(),
        slug=await _free_slug(session, name),
        created_at=now,
        updated_at=now,
    )
    owner = Membership(org_id=org.id, user_id=principal.user.id, role=Role.OWNER, created_at=now)
    await repository.add_org(session, org, owner)
    await record(
        session,
        Actor(principal.user.id, ip),
        "org.created",
        org_id=org.id,
        target_type="org",
        target_id=org.id,
        details={"name": org.name},
    )
    return org


async def my_orgs(session: AsyncSession, principal: Principal) -> list[tuple[Org, Role]]:
    return await repository.orgs_of(session, principal.user.id)


async def rename_org(session: AsyncSession, access: OrgAccess, name: str, ip: str | None) -> Org:
    access.require(Action.ORG_UPDATE)
    org = access.org
    old_name, org.name, org.updated_at = org.name, name.strip(), utcnow()
    await session.flush()
    await record(
        session,
        Actor(access.user_id, ip),
        "org.renamed",
        org_id=org.id,
        target_type="org",
        target_id=org.id,
        details={"from": old_name, "to": org.name},
    )
    return org


async def delete_org(session: AsyncSession, access: OrgAccess, ip: str | None) -> None:
    access.require(Action.ORG_DELETE)
    org = access.org
    key_hashes = await repository.live_key_hashes(session, org.id)
    await repository.delete_org(session, org)
    await record(
        session,
        Actor(access.user_id, ip),
        "org.deleted",
        org_id=org.id,
        target_type="org",
        target_id=org.id,
        details={"name": org.name},
    )
    invalidate_keys(session, key_hashes)


async def list_members(session: AsyncSession, access: OrgAccess) -> list[tuple[User, Membership]]:
    access.require(Action.MEMBERS_READ)
    return await repository.members(session, access.org.id)


async def _target(session: AsyncSession, access: OrgAccess, user_id: uuid.UUID) -> Membership:
    member = await repository.membership(session, access.org.id, user_id)
    if member is None:
        raise NotFound("No such member in this organization.", param="user_id")
    return member


async def _keep_an_owner(session: AsyncSession, member: Membership) -> None:
    if member.role is Role.OWNER and await repository.count_owners(session, member.org_id) <= 1:
        raise Conflict(
            "An organization needs at least one owner: make someone else owner first.",
            code="last_owner",
        )


def _require_manage(access: OrgAccess, role: Role) -> None:
    access.require(Action.MEMBERS_MANAGE)
    if not may_assign(access.role, role, super_admin=access.super_admin):
        raise PermissionDenied(
            f"Your role '{access.role}' cannot manage members whose role is '{role}'."
        )


async def change_role(
    session: AsyncSession, access: OrgAccess, user_id: uuid.UUID, role: Role, ip: str | None
) -> tuple[User, Membership]:
    member = await _target(session, access, user_id)
    _require_manage(access, member.role)
    _require_manage(access, role)
    if member.role is Role.OWNER and role is not Role.OWNER:
        await _keep_an_owner(session, member)
    old_role, member.role = member.role, role
    await session.flush()
    if role is Role.VIEWER and old_role is not Role.VIEWER:
        # Viewers hold no keys; keeping them would grant more than the holder now has.
        await _revoke_keys_of(session, access.org.id, user_id)
    await record(
        session,
        Actor(access.user_id, ip),
        "member.role_changed",
        org_id=access.org.id,
        target_type="user",
        target_id=user_id,
        details={"from": old_role.value, "to": role.value},
    )
    user = await session.get(User, user_id)
    assert user is not None  # the membership's foreign key guarantees it
    return user, member


async def remove_member(
    session: AsyncSession,
    access: OrgAccess,
    user_id: uuid.UUID,
    ip: str | None,
) -> None:
    member = await _target(session, access, user_id)
    if user_id != access.user_id:
        _require_manage(access, member.role)
    await _keep_an_owner(session, member)
    revoked = await _revoke_keys_of(session, access.org.id, user_id)
    await repository.remove_membership(session, member)
    action = "member.left" if user_id == access.user_id else "member.removed"
    await record(
        session,
        Actor(access.user_id, ip),
        action,
        org_id=access.org.id,
        target_type="user",
        target_id=user_id,
        details={"role": member.role.value, "keys_revoked": revoked},
    )


async def _revoke_keys_of(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> int:
    key_hashes = await repository.live_key_hashes(session, org_id, created_by=user_id)
    await repository.revoke_keys(session, org_id, user_id, utcnow())
    invalidate_keys(session, key_hashes)
    return len(key_hashes)


async def limits_and_usage(
    context: ControlContext, session: AsyncSession, access: OrgAccess
) -> tuple[list[OrgModelLimit], dict[Kind, int] | None]:
    """The org's per-model limits and its current consumption as the limiter counts it."""
    access.require(Action.ORG_READ)
    models = await repository.model_limits(session, access.org.id)
    if context.limiter is None:
        return models, None
    try:
        usage = await context.limiter.consumption(f"org:{access.org.id}")
    except Unavailable:
        usage = None
    return models, usage
