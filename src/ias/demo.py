"""The built-in demo models of `ias up`, served by the in-process engine at `/_engine`.

`demo-chat` (chat and completions) and `demo-embed` (embeddings) are registered on every start
and pointed at the engine on the port `ias up` listens on, so a newcomer can call `/v1` at once.
An operator may change their prices or disable them; only a missing model or backend is
created, and the backend's URL is moved if the port changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ias.engine import EngineConfig, EngineModel
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.models import Backend, ModelEntry, ModelKind
from ias.settings import EngineSettings

ENGINE_PATH = "/_engine"


@dataclass(frozen=True, slots=True)
class DemoModel:
    name: str
    kind: ModelKind
    context_length: int
    input_micros_per_mtok: int
    output_micros_per_mtok: int


def engine_config(settings: EngineSettings) -> EngineConfig:
    models = [EngineModel(name, "chat") for name in settings.chat_models]
    models += [EngineModel(name, "embedding") for name in settings.embedding_models]
    return EngineConfig(
        models=tuple(models),
        prompt_seconds_per_token=settings.prompt_seconds_per_token,
        seconds_per_token=settings.seconds_per_token,
        max_concurrency=settings.max_concurrency,
        max_model_len=settings.max_model_len,
    )


def demo_models(settings: EngineSettings) -> list[DemoModel]:
    chat = [
        DemoModel(name, ModelKind.CHAT, settings.max_model_len, 100_000, 400_000)
        for name in settings.chat_models
    ]
    embed = [
        DemoModel(name, ModelKind.EMBEDDING, min(512, settings.max_model_len), 20_000, 0)
        for name in settings.embedding_models
    ]
    return chat + embed


def engine_url(host: str, port: int) -> str:
    """How this process reaches its own engine: loopback unless bound to one other address."""
    if host in ("0.0.0.0", "::", "", "localhost"):  # noqa: S104 - read, not bound
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{ENGINE_PATH}"


async def ensure_demo_models(db: Database, settings: EngineSettings, url: str) -> None:
    async with db.unit_of_work() as session:
        for demo in demo_models(settings):
            model = await session.scalar(select(ModelEntry).where(ModelEntry.name == demo.name))
            if model is None:
                model = new_model(demo)
                session.add(model)
                await session.flush()
            await _point_backend(session, model, url)


async def _point_backend(session: AsyncSession, model: ModelEntry, url: str) -> None:
    backends = list(
        (await session.scalars(select(Backend).where(Backend.model_id == model.id))).all()
    )
    built_in = [b for b in backends if b.url.endswith(ENGINE_PATH)]
    if built_in:
        for backend in built_in:
            backend.url = url
    elif not backends:
        session.add(Backend(id=uuid7(), model_id=model.id, url=url, weight=1, created_at=utcnow()))


def new_model(demo: DemoModel) -> ModelEntry:
    now = utcnow()
    return ModelEntry(
        id=uuid7(),
        name=demo.name,
        kind=demo.kind,
        upstream_model=demo.name,
        context_length=demo.context_length,
        input_price_micros_per_mtok=demo.input_micros_per_mtok,
        output_price_micros_per_mtok=demo.output_micros_per_mtok,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
