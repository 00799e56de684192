"""SQL for the audit log. Flushes, never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ias.models import AuditEntry, User


async def add(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def page(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    action: str | None = None,
) -> list[AuditEntry]:
    """Newest first; keyset pagination on (at, id) so pages stay stable while rows arrive."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if org_id is not None:
        query = query.where(AuditEntry.org_id == org_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if before is not None:
        at, entry_id = before
        query = query.where(
            (AuditEntry.at < at) | ((AuditEntry.at == at) & (AuditEntry.id < entry_id))
        )
    return list((await session.scalars(query)).all())


async def emails_of(session: AsyncSession, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {row.id: row.email for row in rows}
