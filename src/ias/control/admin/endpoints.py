"""`/api/admin/orgs` and `/api/admin/users`: HTTP only; the rules live in `service`.

Every route here takes `SuperAdmin`: anyone else signed in gets 403, anonymous callers 401.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from ias.control.admin import service
from ias.control.admin.schemas import (
    AdminOrgPage,
    AdminOrgRead,
    AdminUserPage,
    AdminUserRead,
    AdminUserUpdate,
    OrgLimitsUpdate,
)
from ias.control.deps import ClientIp, ContextDep, SessionDep, SuperAdmin
from ias.control.orgs.schemas import OrgLimits
from ias.control.schemas import CursorQuery as Cursor
from ias.control.schemas import LimitQuery as Limit
from ias.control.schemas import SearchQuery as Search
from ias.models import Org, User

router = APIRouter(tags=["admin"])


def admin_org_read(org: Org, members: int) -> AdminOrgRead:
    limits = OrgLimits.of(org)
    return AdminOrgRead(
        id=org.id,
        name=org.name,
        slug=org.slug,
        members=members,
        limits=limits,
        created_at=org.created_at,
    )


def admin_user_read(user: User, orgs: int) -> AdminUserRead:
    return AdminUserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        disabled=user.disabled,
        is_super_admin=user.is_super_admin,
        created_at=user.created_at,
        orgs=orgs,
    )


@router.get("/admin/orgs", response_model=AdminOrgPage)
async def list_orgs(
    _: SuperAdmin, session: SessionDep, cursor: Cursor = None, limit: Limit = 50, q: Search = None
) -> AdminOrgPage:
    """Every organization on the platform, newest first; `q` matches name or slug."""
    rows, next_cursor = await service.list_orgs(session, q=q, cursor=cursor, limit=limit)
    return AdminOrgPage(data=[admin_org_read(*row) for row in rows], next_cursor=next_cursor)


@router.get("/admin/users", response_model=AdminUserPage)
async def list_users(
    _: SuperAdmin, session: SessionDep, cursor: Cursor = None, limit: Limit = 50, q: Search = None
) -> AdminUserPage:
    """Every account on the platform, newest first; `q` matches email or name."""
    rows, next_cursor = await service.list_users(session, q=q, cursor=cursor, limit=limit)
    return AdminUserPage(data=[admin_user_read(*row) for row in rows], next_cursor=next_cursor)


@router.patch("/admin/users/{user_id}", response_model=AdminUserRead)
async def update_user(
    user_id: uuid.UUID,
    body: AdminUserUpdate,
    principal: SuperAdmin,
    session: SessionDep,
    ip: ClientIp,
) -> AdminUserRead:
    """Disable or enable an account, or grant or revoke super admin rights.

    Disabling signs the user out everywhere at once and stops their API keys. Nobody can
    disable or demote themself, and the last enabled super admin stays one (409)."""
    user, orgs = await service.update_user(
        session,
        principal,
        user_id,
        disabled=body.disabled,
        is_super_admin=body.is_super_admin,
        ip=ip,
    )
    return admin_user_read(user, orgs)


@router.patch("/admin/orgs/{org_id}/limits", response_model=AdminOrgRead)
async def update_limits(
    org_id: uuid.UUID,
    body: OrgLimitsUpdate,
    principal: SuperAdmin,
    session: SessionDep,
    context: ContextDep,
    ip: ClientIp,
) -> AdminOrgRead:
    """Change an organization's limits; only the fields sent change, and null means unlimited."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    org, members = await service.update_limits(
        session, principal, org_id, changes, ip, context.limiter
    )
    return admin_org_read(org, members)
