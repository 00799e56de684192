"""When usage cannot be recorded, requests are refused instead of served unbilled: a router whose
spool is full (the broker gone for long) answers 503 with a clear message, and serves again once
the spool drains."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import orjson
import pytest

from ias.app import create_app
from ias.contracts.usage import decode_batch
from ias.engine import create_engine_app
from ias.router.ledger import SpoolSink
from tests.integration.router.conftest import CHAT_MODEL, engine_config, router_settings, seed
from tests.servers import ServerThread

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Broker:
    """A publisher that refuses everything while `down`."""

    def __init__(self) -> None:
        self.down = True
        self.events = 0

    async def publish(self, body: bytes, count: int) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.events += len(decode_batch(body))

    async def close(self) -> None:
        pass


async def _started(sink: SpoolSink) -> None:
    sink.open()
    sink.start()


def test_a_full_spool_refuses_with_503_until_it_drains(
    router_database: str, tmp_path: Path
) -> None:
    settings = router_settings(router_database, tmp_path / "home", f"full-{uuid.uuid4().hex[:8]}:")
    broker = Broker()
    # Room for one event: the second request finds the spool full.
    sink = SpoolSink(tmp_path / "spool", broker, max_bytes=1, retry_seconds=(0.01, 0.05))
    body = orjson.dumps(
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    )
    with ServerThread(create_engine_app(engine_config())) as engine:
        tenant = asyncio.run(seed(router_database, settings.secret("api_key_secret"), engine.url))
        app = create_app(settings, "router", usage_sink=sink)
        with ServerThread(app) as router:
            router.call(_started(sink))
            headers = {"authorization": f"Bearer {tenant.key}"}
            url = f"{router.url}/v1/chat/completions"
            assert httpx.post(url, content=body, headers=headers).status_code == 200
            refused = httpx.post(url, content=body, headers=headers)
            assert refused.status_code == 503
            error = refused.json()["error"]
            assert error["type"] == "service_unavailable"
            assert "usage spool is full" in error["message"]
            broker.down = False
            deadline = time.monotonic() + 10
            while httpx.post(url, content=body, headers=headers).status_code != 200:
                assert time.monotonic() < deadline, "still refused after the spool drained"
                time.sleep(0.05)
            router.call(sink.close(drain_seconds=2))
    assert broker.events >= 2
