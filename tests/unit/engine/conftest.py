"""An engine in-process behind an httpx client (`engine`, `app`, `client`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ias.engine import EngineApp
from tests.unit.engine.support import engine_client, engine_config


@pytest.fixture
async def engine() -> AsyncIterator[tuple[EngineApp, httpx.AsyncClient]]:
    async with engine_client(engine_config()) as pair:
        yield pair


@pytest.fixture
def app(engine: tuple[EngineApp, httpx.AsyncClient]) -> EngineApp:
    return engine[0]


@pytest.fixture
def client(engine: tuple[EngineApp, httpx.AsyncClient]) -> httpx.AsyncClient:
    return engine[1]
