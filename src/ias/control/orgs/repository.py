"""SQL for orgs and memberships. Flushes, never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ias.models import ApiKey, Membership, Org, OrgModelLimit, OrgRole, User


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    return await session.scalar(select(Org.id).where(Org.slug == slug)) is not None


async def add_org(session: AsyncSession, org: Org, owner: Membership) -> None:
    session.add(org)
    await session.flush()
    session.add(owner)
    await session.flush()


async def orgs_of(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Org, OrgRole]]:
    rows = await session.execute(
        select(Org, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Org.created_at)
    )
    return [(first, second) for first, second in rows]


async def delete_org(session: AsyncSession, org: Org) -> None:
    await session.delete(org)
    await session.flush()


async def members(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[User, Membership]]:
    rows = await session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(Membership.created_at)
    )
    return [(first, second) for first, second in rows]


async def membership(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await session.get(Membership, (org_id, user_id))


async def count_owners(session: AsyncSession, org_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        Membership.org_id == org_id, Membership.role == OrgRole.OWNER
    )
    return int(await session.scalar(query) or 0)


async def remove_membership(session: AsyncSession, member: Membership) -> None:
    await session.delete(member)
    await session.flush()


async def live_key_hashes(
    session: AsyncSession, org_id: uuid.UUID, created_by: uuid.UUID | None = None
) -> list[str]:
    query = select(ApiKey.key_hash).where(ApiKey.org_id == org_id, ApiKey.revoked_at.is_(None))
    if created_by is not None:
        query = query.where(ApiKey.created_by == created_by)
    return list((await session.scalars(query)).all())


async def revoke_keys(
    session: AsyncSession, org_id: uuid.UUID, created_by: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.org_id == org_id,
            ApiKey.created_by == created_by,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def model_limits(session: AsyncSession, org_id: uuid.UUID) -> list[OrgModelLimit]:
    query = (
        select(OrgModelLimit).where(OrgModelLimit.org_id == org_id).order_by(OrgModelLimit.model)
    )
    return list((await session.scalars(query)).all())
