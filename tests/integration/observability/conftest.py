"""A router with its real usage spool (relayed to the embedded ledger) in front of two mock
engines, scraped over HTTP; and the whole production setup as a multi-worker process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from ias.app import create_app
from ias.engine import create_engine_app
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.models import Backend, ModelEntry
from tests.integration.router.conftest import (
    Tenant,
    engine_config,
    router_database,
    router_settings,
    seed,
)
from tests.integration.usage.conftest import pipeline
from tests.servers import ServerThread

__all__ = ["pipeline", "router_database"]  # fixtures shared with the router and usage tests

SPARE_MODEL = "spare-model"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape(base_url: str) -> Samples:
    """One scrape, on a new connection (with several workers, any of them may answer)."""
    response = httpx.get(f"{base_url}/metrics", headers={"connection": "close"}, timeout=10)
    assert response.status_code == 200
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@dataclass
class Observed:
    router: ServerThread
    spare_engine: ServerThread
    tenant: Tenant
    database_url: str
    secret: str
    chat_backend: uuid.UUID
    spare_backend: uuid.UUID

    @property
    def url(self) -> str:
        return self.router.url

    def chat(self, tenant: Tenant | None = None, **body: Any) -> httpx.Response:
        tenant = tenant or self.tenant
        payload = {"model": "chat-model", "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(
            f"{self.url}/v1/chat/completions",
            json=payload | body,
            headers={"authorization": f"Bearer {tenant.key}"},
            timeout=30,
        )


async def _add_spare_model(database_url: str, engine_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A model of its own on the spare engine; returns (chat backend id, spare backend id)."""
    db = Database.from_url(database_url)
    now = utcnow()
    try:
        async with db.unit_of_work() as session:
            chat = await session.scalar(select(ModelEntry).where(ModelEntry.name == "chat-model"))
            assert chat is not None
            chat_backend = await session.scalar(
                select(Backend.id).where(Backend.model_id == chat.id)
            )
            spare = ModelEntry(
                id=uuid7(),
                name=SPARE_MODEL,
                kind=chat.kind,
                upstream_model=chat.upstream_model,
                context_length=4096,
                created_at=now,
                updated_at=now,
            )
            session.add(spare)
            await session.flush()
            backend = Backend(
                id=uuid7(), model_id=spare.id, url=engine_url, weight=1, created_at=now
            )
            session.add(backend)
    finally:
        await db.dispose()
    assert chat_backend is not None
    return chat_backend, backend.id


@pytest.fixture(scope="module")
def observed(router_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    home = tmp_path_factory.mktemp("observed-router")
    settings = router_settings(router_database, home, f"obs-{uuid.uuid4().hex[:8]}:")
    secret = settings.secret("api_key_secret")
    with (
        ServerThread(create_engine_app(engine_config())) as engine,
        ServerThread(create_engine_app(engine_config())) as spare,
    ):
        tenant = asyncio.run(seed(router_database, secret, engine.url))
        chat_backend, spare_backend = asyncio.run(_add_spare_model(router_database, spare.url))
        with ServerThread(create_app(settings, "router")) as router:
            yield Observed(
                router, spare, tenant, router_database, secret, chat_backend, spare_backend
            )
