"""The data plane under test: real mock engines and real routers on loopback, sharing one
migrated PostgreSQL database and Redis, with a model, an org, a user and an API key.

Everything runs in this process (servers in threads), so tests can read the engine's token
log and the router's usage sink directly: the billing oracle compares the two.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ias.app import create_app
from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.contracts.usage import UsageEvent
from ias.engine.app import EngineApp, create_engine_app
from ias.engine.config import EngineConfig, EngineModel
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.migrations import runner
from ias.models import ApiKey, Backend, Membership, ModelEntry, ModelKind, Org, OrgRole, User
from ias.router.usage import MemoryUsageSink
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.asgi import framework_app
from tests.conftest import REDIS_URL
from tests.integration.control.conftest import _create_database, _drop_database
from tests.servers import ServerThread

CHAT_MODEL = "chat-model"
EMBED_MODEL = "embed-model"
UPSTREAM_CHAT = "org/upstream-chat-7b"


@dataclass
class Tenant:
    org_id: uuid.UUID
    user_id: uuid.UUID
    key: str
    key_id: uuid.UUID


@dataclass
class Stack:
    settings: Settings
    engine: EngineApp
    engine_server: ServerThread
    router_app: Any
    router_server: ServerThread
    tenant: Tenant

    @property
    def v1(self) -> str:
        return self.router_server.url + "/v1"

    @property
    def sink(self) -> MemoryUsageSink:
        sink: MemoryUsageSink = framework_app(self.router_app).state.router.state.sink
        return sink

    def event(self, event_id: str) -> UsageEvent | None:
        for event in list(self.sink.events):
            if str(event.event_id) == event_id:
                return event
        return None


def engine_config(**overrides: Any) -> EngineConfig:
    models = (EngineModel(UPSTREAM_CHAT, "chat"), EngineModel(EMBED_MODEL, "embedding"))
    return EngineConfig(models=models, **overrides)


async def seed(db_url: str, secret: str, engine_url: str) -> Tenant:
    db = Database.from_url(db_url)
    now = utcnow()
    key = generate_key()
    org = Org(
        id=uuid7(), name="Acme", slug=f"acme-{uuid.uuid4().hex[:8]}", created_at=now, updated_at=now
    )
    user = User(
        id=uuid7(),
        email=f"dev-{uuid.uuid4().hex[:8]}@example.com",
        password_hash="x",
        name="Dev",
        created_at=now,
        updated_at=now,
    )
    chat = ModelEntry(
        id=uuid7(),
        name=CHAT_MODEL,
        kind=ModelKind.CHAT,
        upstream_model=UPSTREAM_CHAT,
        context_length=4096,
        input_price_micros_per_mtok=150_000,
        output_price_micros_per_mtok=600_000,
        created_at=now,
        updated_at=now,
    )
    embed = ModelEntry(
        id=uuid7(),
        name=EMBED_MODEL,
        kind=ModelKind.EMBEDDING,
        upstream_model=EMBED_MODEL,
        context_length=512,
        input_price_micros_per_mtok=20_000,
        output_price_micros_per_mtok=0,
        created_at=now,
        updated_at=now,
    )
    api_key = ApiKey(
        id=uuid7(),
        org_id=org.id,
        created_by=user.id,
        name="tests",
        prefix=display_prefix(key),
        key_hash=hash_key(key, secret),
        created_at=now,
    )
    try:
        async with db.unit_of_work() as session:
            for row in (org, user, chat, embed):
                session.add(row)
                await session.flush()
            session.add(
                Membership(org_id=org.id, user_id=user.id, role=OrgRole.MEMBER, created_at=now)
            )
            for model in (chat, embed):
                session.add(
                    Backend(id=uuid7(), model_id=model.id, url=engine_url, weight=1, created_at=now)
                )
            session.add(api_key)
    finally:
        await db.dispose()
    return Tenant(org.id, user.id, key, api_key.id)


@pytest.fixture(scope="module")
def router_database() -> Iterator[str]:
    name = f"ias_router_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(runner.upgrade(url))
    yield url
    asyncio.run(_drop_database(name))


def router_settings(database_url: str, home: Path, prefix: str, **router: Any) -> Settings:
    return resolve_secrets(
        Settings(
            home=home,
            database_url=database_url,
            redis_url=REDIS_URL,
            redis_key_prefix=prefix,
            router={"probe_interval_seconds": 0.5, **router},
        )
    )


@pytest.fixture(scope="module")
def stack(router_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    engine = create_engine_app(engine_config())
    home = tmp_path_factory.mktemp("router-home")
    settings = router_settings(
        router_database, home, f"rt-{uuid.uuid4().hex[:8]}:", between_chunks_timeout_seconds=1.0
    )
    with ServerThread(engine) as engine_server:
        tenant = asyncio.run(
            seed(router_database, settings.secret("api_key_secret"), engine_server.url)
        )
        app = create_app(settings, "router", usage_sink=MemoryUsageSink())
        with ServerThread(app) as router_server:
            yield Stack(settings, engine, engine_server, app, router_server, tenant)
