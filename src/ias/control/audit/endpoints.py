"""`/api/orgs/{org_id}/audit` and `/api/admin/audit`: HTTP only; the rules live in `service`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ias.control.audit import service
from ias.control.audit.schemas import AuditEntryRead, AuditPageRead
from ias.control.deps import CurrentOrg, SessionDep, SuperAdmin
from ias.control.schemas import CursorQuery as Cursor
from ias.control.schemas import LimitQuery as Limit
from ias.control.schemas import Text

router = APIRouter(tags=["audit"])


def page_read(page: service.AuditPage) -> AuditPageRead:
    data = [
        AuditEntryRead(
            id=entry.id,
            at=entry.at,
            actor_user_id=entry.actor_user_id,
            actor_email=page.actor_emails.get(entry.actor_user_id)
            if entry.actor_user_id is not None
            else None,
            org_id=entry.org_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            ip=entry.ip,
            details=entry.details,
        )
        for entry in page.entries
    ]
    return AuditPageRead(data=data, next_cursor=page.next_cursor)


@router.get("/orgs/{org_id}/audit", response_model=AuditPageRead)
async def org_audit(
    access: CurrentOrg, session: SessionDep, cursor: Cursor = None, limit: Limit = 50
) -> AuditPageRead:
    """The organization's audit log, newest first (admins and owners)."""
    return page_read(await service.org_page(session, access, cursor=cursor, limit=limit))


@router.get("/admin/audit", response_model=AuditPageRead)
async def platform_audit(
    _: SuperAdmin,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = 50,
    org_id: Annotated[uuid.UUID | None, Query(description="Only this org's entries.")] = None,
    action: Annotated[
        Text | None, Query(max_length=64, description="Only this action, e.g. `user.disabled`.")
    ] = None,
) -> AuditPageRead:
    """The whole platform's audit log, newest first (super admins)."""
    page = await service.browse(session, org_id=org_id, action=action, cursor=cursor, limit=limit)
    return page_read(page)
