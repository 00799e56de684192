"""SQL for the model registry. Flushes, never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ias.errors import Conflict
from ias.models import Backend, ModelEntry

# How each dialect names the unique constraints we expect to race on.
_MODEL_NAME_UNIQUE = ("uq_models_name", "models.name")
_BACKEND_URL_UNIQUE = ("uq_backends_model_id_url", "backends.model_id, backends.url")


def model_name_conflict(name: str) -> Conflict:
    return Conflict(
        f"A model named '{name}' already exists: pick another name or update that model.",
        param="name",
        code="model_exists",
    )


def backend_url_conflict(url: str) -> Conflict:
    return Conflict(
        f"This model already has a backend at {url}; update or remove that one instead.",
        param="url",
        code="backend_exists",
    )


async def _flush(session: AsyncSession, expected: tuple[str, str], conflict: Conflict) -> None:
    """Flush; a concurrent insert that won the race on `expected` becomes `conflict`."""
    try:
        await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if any(name in message for name in expected):
            raise conflict from exc
        raise


async def name_taken(
    session: AsyncSession, name: str, *, other_than: uuid.UUID | None = None
) -> bool:
    query = select(ModelEntry.id).where(ModelEntry.name == name)
    if other_than is not None:
        query = query.where(ModelEntry.id != other_than)
    return await session.scalar(query) is not None


async def add_model(session: AsyncSession, model: ModelEntry) -> None:
    session.add(model)
    await _flush(session, _MODEL_NAME_UNIQUE, model_name_conflict(model.name))


async def save_model(session: AsyncSession, model: ModelEntry) -> None:
    await _flush(session, _MODEL_NAME_UNIQUE, model_name_conflict(model.name))


async def get_model(session: AsyncSession, model_id: uuid.UUID) -> ModelEntry | None:
    return await session.get(ModelEntry, model_id)


async def models(session: AsyncSession, *, enabled_only: bool = False) -> list[ModelEntry]:
    query = select(ModelEntry).order_by(ModelEntry.name)
    if enabled_only:
        query = query.where(ModelEntry.enabled.is_(True))
    return list((await session.scalars(query)).all())


async def delete_model(session: AsyncSession, model: ModelEntry) -> None:
    # The backends go with it: the foreign key cascades in the database.
    await session.delete(model)
    await session.flush()


async def backends_of(session: AsyncSession, model_ids: list[uuid.UUID]) -> list[Backend]:
    if not model_ids:
        return []
    query = (
        select(Backend)
        .where(Backend.model_id.in_(model_ids))
        .order_by(Backend.created_at, Backend.id)
    )
    return list((await session.scalars(query)).all())


async def backend_exists(session: AsyncSession, model_id: uuid.UUID, url: str) -> bool:
    query = select(Backend.id).where(Backend.model_id == model_id, Backend.url == url)
    return await session.scalar(query) is not None


async def get_backend(
    session: AsyncSession, model_id: uuid.UUID, backend_id: uuid.UUID
) -> Backend | None:
    query = select(Backend).where(Backend.id == backend_id, Backend.model_id == model_id)
    return await session.scalar(query)


async def add_backend(session: AsyncSession, backend: Backend) -> None:
    session.add(backend)
    await _flush(session, _BACKEND_URL_UNIQUE, backend_url_conflict(backend.url))


async def save_backend(session: AsyncSession) -> None:
    await session.flush()


async def delete_backend(session: AsyncSession, backend: Backend) -> None:
    await session.delete(backend)
    await session.flush()
