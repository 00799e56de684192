"""SQL for platform administration: every org and user, across tenants. Flushes, never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ias.models import Membership, ModelEntry, Org, OrgModelLimit, RefreshSession, User

Position = tuple[datetime, uuid.UUID]


def _contains(column: InstrumentedAttribute[str], text: str) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _before(
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    position: Position,
) -> ColumnElement[bool]:
    at, last_id = position
    return (created_at < at) | ((created_at == at) & (row_id < last_id))


async def orgs_page(
    session: AsyncSession, *, q: str | None, before: Position | None, limit: int
) -> list[tuple[Org, int]]:
    """Newest first, keyset on (created_at, id), each org with its member count."""
    members = (
        select(func.count()).where(Membership.org_id == Org.id).correlate(Org).scalar_subquery()
    )
    query = select(Org, members).order_by(Org.created_at.desc(), Org.id.desc()).limit(limit)
    if q:
        query = query.where(or_(_contains(Org.name, q), _contains(Org.slug, q)))
    if before is not None:
        query = query.where(_before(Org.created_at, Org.id, before))
    return [(org, count) for org, count in await session.execute(query)]


async def users_page(
    session: AsyncSession, *, q: str | None, before: Position | None, limit: int
) -> list[tuple[User, int]]:
    """Newest first, keyset on (created_at, id), each user with how many orgs they belong to."""
    orgs = (
        select(func.count()).where(Membership.user_id == User.id).correlate(User).scalar_subquery()
    )
    query = select(User, orgs).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
    if q:
        query = query.where(or_(_contains(User.email, q), _contains(User.name, q)))
    if before is not None:
        query = query.where(_before(User.created_at, User.id, before))
    return [(user, count) for user, count in await session.execute(query)]


async def org_by_id(session: AsyncSession, org_id: uuid.UUID) -> Org | None:
    return await session.get(Org, org_id)


async def member_count(session: AsyncSession, org_id: uuid.UUID) -> int:
    query = select(func.count()).where(Membership.org_id == org_id)
    return int(await session.scalar(query) or 0)


async def user_for_update(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id, with_for_update=True, populate_existing=True)


async def org_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    query = select(func.count()).where(Membership.user_id == user_id)
    return int(await session.scalar(query) or 0)


async def lock_active_super_admins(session: AsyncSession) -> list[uuid.UUID]:
    """The enabled super admins, their rows locked until commit, always in id order.

    The lock serialises concurrent demotions: two super admins disabling each other at once
    would otherwise each still see the other and leave the platform with none. Taking the
    locks in one order, before any other user row, keeps two such requests from deadlocking.
    """
    query = (
        select(User.id)
        .where(User.is_super_admin.is_(True), User.disabled.is_(False))
        .order_by(User.id)
        .with_for_update()
    )
    return list((await session.scalars(query)).all())


async def revoke_sessions(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshSession)
        .where(RefreshSession.user_id == user_id, RefreshSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def existing_model_names(session: AsyncSession, names: list[str]) -> set[str]:
    query = select(ModelEntry.name).where(ModelEntry.name.in_(names))
    return set((await session.scalars(query)).all())


async def put_model_limit(
    session: AsyncSession, org_id: uuid.UUID, model: str, rpm: int | None, tpm: int | None
) -> None:
    row = await session.get(OrgModelLimit, (org_id, model))
    if row is None:
        session.add(OrgModelLimit(org_id=org_id, model=model, rpm_limit=rpm, tpm_limit=tpm))
    else:
        row.rpm_limit, row.tpm_limit = rpm, tpm
    await session.flush()


async def delete_model_limit(session: AsyncSession, org_id: uuid.UUID, model: str) -> None:
    await session.execute(
        delete(OrgModelLimit).where(OrgModelLimit.org_id == org_id, OrgModelLimit.model == model)
    )
