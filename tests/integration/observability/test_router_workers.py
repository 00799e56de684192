"""`ias serve router --workers 2` against PostgreSQL, Redis and RabbitMQ: the workers take
their own spool slots, and every scrape, whichever worker answers it, counts each request
exactly once, even after both workers that served the traffic were killed and replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from bench.router.processes import Server, free_port, venv_command

from tests.integration.observability.conftest import Samples, scrape, value
from tests.integration.usage.conftest import READY_SECONDS, Pipeline, start

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]
REQUESTS = 24
ROUTE = {"model": "chat-model", "endpoint": "chat/completions"}
CHAT = ROUTE | {"status": "200"}


def workers_of(server: Server) -> set[int]:
    """The uvicorn worker processes under the server's supervisor."""
    pids = set()
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for pid in map(int, children):
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"spawn_main" in command:
            pids.add(pid)
    return pids


def wait_until(check: object, seconds: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def scrapes(url: str, times: int) -> list[Samples]:
    return [scrape(url) for _ in range(times)]


async def _traffic(url: str, key: str) -> list[int]:
    body = {"model": "chat-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    headers = {"authorization": f"Bearer {key}", "connection": "close"}  # each may meet either

    async def one(client: httpx.AsyncClient) -> int:
        response = await client.post(f"{url}/v1/chat/completions", json=body, headers=headers)
        return response.status_code

    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(*(one(client) for _ in range(REQUESTS)))


async def test_two_workers_count_every_request_once(pipeline: Pipeline) -> None:
    port = free_port()
    home = pipeline.workdir / "router"
    command = [venv_command("ias"), "serve", "router", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2"]
    env = pipeline.env | {"IAS_HOME": str(home)}
    server = Server(
        "router", command, env, pipeline.workdir / "router.log", f"http://127.0.0.1:{port}"
    )
    pipeline.servers.append(server)
    start(server)
    wait_until(lambda: len(workers_of(server)) == 2)
    wait_until(lambda: {p.name for p in (home / "spool").iterdir() if p.is_dir()} == {"0", "1"})

    statuses = await _traffic(server.url, pipeline.tenant.key)
    assert statuses == [200] * REQUESTS
    for samples in scrapes(server.url, 6):
        assert value(samples, "ias_router_requests_total", **CHAT) == REQUESTS
        durations = value(samples, "ias_router_request_duration_seconds_count", **ROUTE)
        assert durations == REQUESTS
    published = "ias_usage_published_events_total"
    wait_until(lambda: value(scrape(server.url), published) == REQUESTS)

    # Whoever answers now served none of the traffic: the counts come from the other files.
    served = workers_of(server)
    for pid in served:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: len(workers_of(server) - served) == 2)
    wait_until(lambda: _answers(server.url))
    for samples in scrapes(server.url, 4):
        assert value(samples, "ias_router_requests_total", **CHAT) == REQUESTS
        assert value(samples, "ias_router_limiter_degraded") == 0
    # The replacements took over the dead workers' slots and deliver again what was left in
    # them (at least once); the dead workers' own spool gauges are gone from the sums.
    wait_until(lambda: all(value(s, "ias_usage_spool_events") == 0 for s in scrapes(server.url, 4)))
    assert value(scrape(server.url), published) >= REQUESTS


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
