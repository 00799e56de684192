"""The model registry as the router sees it: public name → route (prices, context, backends).

Loaded whole from the database at start, reloaded when the control plane announces a change
(`models.v1`) and every `refresh_seconds` as a safety net. A reload that fails keeps the last
good catalog. Backend health state survives reloads, keyed by backend id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ias.contracts.usage import Prices
from ias.kit.crypto import DecryptionError, Encryptor
from ias.kit.db import Database
from ias.models import Backend, ModelEntry, ModelKind
from ias.router.balancer import BackendState

logger = logging.getLogger("ias.router.catalog")


@dataclass(frozen=True, slots=True)
class Route:
    model_id: uuid.UUID
    name: str
    kind: ModelKind
    upstream_model: str
    context_length: int | None
    prices: Prices
    created: int
    backends: tuple[BackendState, ...]

    def serves(self, endpoint: str) -> bool:
        if self.kind is ModelKind.EMBEDDING:
            return endpoint == "embeddings"
        if self.kind is ModelKind.COMPLETION:
            return endpoint == "completions"
        return endpoint in ("chat/completions", "completions")


def base_url(url: str) -> str:
    """Backends are registered with or without the trailing `/v1`; requests need it."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class ModelCatalog:
    def __init__(self, db: Database, encryptor: Encryptor, *, refresh_seconds: float) -> None:
        self._db = db
        self._encryptor = encryptor
        self._refresh_seconds = refresh_seconds
        self._routes: dict[str, Route] = {}
        self._states: dict[uuid.UUID, BackendState] = {}
        self._reload_wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def get(self, name: str) -> Route | None:
        return self._routes.get(name)

    def routes(self) -> list[Route]:
        return sorted(self._routes.values(), key=lambda route: route.name)

    def backends(self) -> list[BackendState]:
        return list(self._states.values())

    def invalidate(self, _message: bytes) -> None:
        """Notifier handler for the models channel: any change reloads the whole catalog."""
        self._reload_wanted.set()

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._refresh_forever(), name="model-catalog")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reload(self) -> None:
        try:
            async with self._db.session() as session:
                models = list(
                    (await session.scalars(select(ModelEntry).where(ModelEntry.enabled))).all()
                )
                backends = list(
                    (await session.scalars(select(Backend).where(Backend.enabled))).all()
                )
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("model catalog reload failed (%s); keeping the last one", exc)
            return
        by_model: dict[uuid.UUID, list[BackendState]] = {}
        states: dict[uuid.UUID, BackendState] = {}
        for backend in backends:
            state = self._state_for(backend)
            if state is not None:
                states[backend.id] = state
                by_model.setdefault(backend.model_id, []).append(state)
        self._states = states
        self._routes = {
            model.name: self._route(model, by_model.get(model.id, [])) for model in models
        }

    def _state_for(self, backend: Backend) -> BackendState | None:
        try:
            api_key = (
                self._encryptor.decrypt(backend.api_key_encrypted)
                if backend.api_key_encrypted
                else None
            )
        except DecryptionError:
            logger.error("backend %s has an unreadable api key; it is left out", backend.id)
            return None
        state = self._states.get(backend.id)
        if state is None or state.url != base_url(backend.url) or state.api_key != api_key:
            return BackendState(backend.id, base_url(backend.url), api_key, backend.weight)
        state.weight = backend.weight
        return state

    @staticmethod
    def _route(model: ModelEntry, backends: list[BackendState]) -> Route:
        return Route(
            model_id=model.id,
            name=model.name,
            kind=model.kind,
            upstream_model=model.upstream_model,
            context_length=model.context_length,
            prices=Prices(
                model.input_price_micros_per_mtok,
                model.output_price_micros_per_mtok,
                model.cached_input_price_micros_per_mtok,
            ),
            created=int(model.created_at.timestamp()),
            backends=tuple(backends),
        )

    async def _refresh_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_wanted.wait(), self._refresh_seconds)
            self._reload_wanted.clear()
            await self.reload()
