"""Backend choice under failure: retry elsewhere before the first byte, eject a backend that
keeps failing, and answer 502 with a usage event when no backend can serve."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from ias.app import create_app
from ias.engine import EngineApp, create_engine_app
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.models import Backend, ModelEntry
from ias.router.usage import MemoryUsageSink
from tests.asgi import framework_app
from tests.integration.router.conftest import (
    CHAT_MODEL,
    Tenant,
    engine_config,
    router_settings,
    seed,
)
from tests.servers import ServerThread

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
BROKEN_ONLY = "broken-only"


@dataclass
class Pair:
    router: ServerThread
    app: object
    good: EngineApp
    broken: EngineApp
    tenant: Tenant


async def _add_broken_backends(database_url: str, url: str) -> None:
    """The broken engine joins the chat model's backends and alone serves `BROKEN_ONLY`."""
    db = Database.from_url(database_url)
    now = utcnow()
    try:
        async with db.unit_of_work() as session:
            chat = await session.scalar(select(ModelEntry).where(ModelEntry.name == CHAT_MODEL))
            assert chat is not None
            only = ModelEntry(
                id=uuid7(),
                name=BROKEN_ONLY,
                kind=chat.kind,
                upstream_model=chat.upstream_model,
                context_length=4096,
                created_at=now,
                updated_at=now,
            )
            session.add(only)
            await session.flush()
            for model_id in (chat.id, only.id):
                session.add(Backend(id=uuid7(), model_id=model_id, url=url, created_at=now))
    finally:
        await db.dispose()


@pytest.fixture
def pair(router_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    settings = router_settings(
        router_database, tmp_path_factory.mktemp("failover"), f"fo-{uuid.uuid4().hex[:8]}:"
    )
    good, broken = (
        create_engine_app(engine_config()),
        create_engine_app(engine_config(fail_status=503)),
    )
    with ServerThread(good) as good_server, ServerThread(broken) as broken_server:
        tenant = asyncio.run(
            seed(router_database, settings.secret("api_key_secret"), good_server.url)
        )
        asyncio.run(_add_broken_backends(router_database, broken_server.url))
        app = create_app(settings, "router", usage_sink=MemoryUsageSink())
        with ServerThread(app) as router:
            yield Pair(router, app, good, broken, tenant)
    asyncio.run(_clear_models(router_database))


async def _clear_models(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        async with db.unit_of_work() as session:
            for model in (await session.scalars(select(ModelEntry))).all():
                await session.delete(model)
    finally:
        await db.dispose()


def _chat(pair: Pair) -> httpx.Response:
    return httpx.post(
        f"{pair.router.url}/v1/chat/completions",
        json={
            "model": CHAT_MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 2,
        },
        headers={"authorization": f"Bearer {pair.tenant.key}"},
    )


def test_a_failing_backend_is_retried_elsewhere_then_ejected(pair: Pair) -> None:
    statuses = [_chat(pair).status_code for _ in range(30)]
    assert statuses == [200] * 30
    tried_broken = len(pair.broken.token_log.records())
    # Power of two choices keeps sending some traffic to a healthy-looking backend until it
    # is ejected after three failures in a row; after that it gets nothing.
    assert 1 <= tried_broken <= 10
    before = len(pair.broken.token_log.records())
    for _ in range(10):
        assert _chat(pair).status_code == 200
    assert len(pair.broken.token_log.records()) == before


def test_no_working_backend_is_a_502_with_one_usage_event(pair: Pair) -> None:
    sink = framework_app(pair.app).state.router.state.sink  # type: ignore[arg-type]
    seen = sink.submitted
    response = httpx.post(
        f"{pair.router.url}/v1/chat/completions",
        json={"model": BROKEN_ONLY, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {pair.tenant.key}"},
    )
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_error"
    assert sink.submitted == seen + 1
    event = sink.events[-1]
    assert (event.model, event.http_status, event.completion_tokens) == (BROKEN_ONLY, 502, 0)
