"""Two router processes share nothing but Redis and the database: revoking a key through the
control plane must shut it out of both within one second."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ias.app import create_app
from ias.router.usage import MemoryUsageSink
from tests.asgi import lifespan
from tests.integration.router.conftest import engine_config, router_settings, seed
from tests.servers import ServerThread
from tests.tokens import access_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def _status(client: httpx.AsyncClient, router: ServerThread, key: str) -> int:
    response = await client.get(
        f"{router.url}/v1/models", headers={"authorization": f"Bearer {key}"}
    )
    return response.status_code


async def test_a_revoked_key_is_refused_by_every_router_within_a_second(
    router_database: str, tmp_path: Path
) -> None:
    from ias.engine import create_engine_app

    settings = router_settings(router_database, tmp_path, f"rv-{uuid.uuid4().hex[:8]}:")
    with ServerThread(create_engine_app(engine_config())) as engine:
        tenant = await seed(router_database, settings.secret("api_key_secret"), engine.url)
        token = await access_token(settings, tenant.user_id)
        control = create_app(settings, "control")
        with (
            ServerThread(create_app(settings, "router", usage_sink=MemoryUsageSink())) as first,
            ServerThread(create_app(settings, "router", usage_sink=MemoryUsageSink())) as second,
        ):
            async with httpx.AsyncClient() as client, lifespan(control):
                for router in (first, second):  # both routers now hold the key in cache
                    assert await _status(client, router, tenant.key) == 200
                transport = httpx.ASGITransport(app=control)
                async with httpx.AsyncClient(
                    transport=transport, base_url="https://control"
                ) as api:
                    revoked = await api.delete(
                        f"/api/orgs/{tenant.org_id}/api-keys/{tenant.key_id}",
                        headers={"authorization": f"Bearer {token}"},
                    )
                assert revoked.status_code == 204, revoked.text
                started = time.monotonic()
                pending = {first.port: first, second.port: second}
                while pending and time.monotonic() - started < 1.0:
                    for port, router in list(pending.items()):
                        if await _status(client, router, tenant.key) == 401:
                            del pending[port]
                    await asyncio.sleep(0.01)
                elapsed = time.monotonic() - started
    assert not pending, f"still accepted after {elapsed:.2f} s by {sorted(pending)}"
