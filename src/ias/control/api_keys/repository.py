"""SQL for API keys. Flushes, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ias.models import ApiKey, ModelEntry


async def registered_models(session: AsyncSession, names: Collection[str]) -> set[str]:
    """Those of `names` that are in the model registry."""
    if not names:
        return set()
    found = await session.scalars(select(ModelEntry.name).where(ModelEntry.name.in_(names)))
    return set(found.all())


async def add(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def keys_of(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.org_id == org_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return list((await session.scalars(query)).all())


async def key_for_update(
    session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey | None:
    """The key, locked until commit so that concurrent revocations serialise on it."""
    query = (
        select(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.org_id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)
