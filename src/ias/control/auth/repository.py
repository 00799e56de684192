"""SQL for accounts and refresh sessions. Flushes, never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ias.models import Membership, Org, OrgRole, RefreshSession, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    user: User | None = await session.scalar(select(User).where(User.email_is(email)))
    return user


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def add_session(session: AsyncSession, refresh: RefreshSession) -> None:
    session.add(refresh)
    await session.flush()


async def session_by_token_hash(session: AsyncSession, token_hash: str) -> RefreshSession | None:
    query = select(RefreshSession).where(RefreshSession.token_hash == token_hash)
    found: RefreshSession | None = await session.scalar(query)
    return found


async def mark_rotated(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> bool:
    """Claim a refresh token for rotation; False when someone already used or revoked it."""
    result = await session.execute(
        update(RefreshSession)
        .where(
            RefreshSession.id == session_id,
            RefreshSession.rotated_at.is_(None),
            RefreshSession.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshSession)
        .where(RefreshSession.family_id == family_id, RefreshSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke_user_sessions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    query = update(RefreshSession).where(
        RefreshSession.user_id == user_id, RefreshSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(RefreshSession.family_id != keep)
    await session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))


async def family_is_active(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> bool:
    query = select(
        exists().where(
            RefreshSession.family_id == family_id,
            RefreshSession.revoked_at.is_(None),
            RefreshSession.expires_at > now,
        )
    )
    return bool(await session.scalar(query))


async def memberships_of(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Org, OrgRole]]:
    rows = await session.execute(
        select(Org, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Org.name)
    )
    return [(org, role) for org, role in rows]
