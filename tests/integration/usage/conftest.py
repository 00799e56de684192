"""The whole usage pipeline under test, as in production: a mock engine (its token log is the
oracle), routers and the ledger consumer as real processes, RabbitMQ, PostgreSQL and Redis.

Processes run from the project's console scripts, so they can be killed with SIGKILL and
restarted on the same spool, which is what the acceptance tests do to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from bench.router.processes import Server, free_port, venv_command

from ias.engine.app import EngineApp, create_engine_app
from ias.migrations import runner
from tests.conftest import REDIS_URL
from tests.integration.router.conftest import Tenant, engine_config, seed
from tests.servers import ServerThread

READY_SECONDS = 30.0


@dataclass
class Pipeline:
    """An engine, a database with a tenant, and the environment every IAS process shares."""

    workdir: Path
    database_url: str
    engine: EngineApp
    engine_url: str
    tenant: Tenant
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)

    def router(self, name: str = "router", port: int | None = None) -> Server:
        """A router process (not started); `name` keeps its spool and log apart from others."""
        env = self.env | {"IAS_HOME": str(self.workdir / name)}
        port = port or free_port()
        command = [venv_command("ias"), "serve", "router", "--host", "127.0.0.1"]
        command += ["--port", str(port)]
        server = Server(
            name, command, env, self.workdir / f"{name}.log", f"http://127.0.0.1:{port}"
        )
        self.servers.append(server)
        return server

    def worker(self, name: str = "worker") -> Server:
        command = [venv_command("ias"), "worker", "usage"]
        env = self.env | {"IAS_HOME": str(self.workdir / name)}
        server = Server(name, command, env, self.workdir / f"{name}.log", "")
        self.servers.append(server)
        return server

    async def rows(self) -> dict[str, asyncpg.Record]:
        """The ledger's raw rows, by event id."""
        connection = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            rows = await connection.fetch(
                "SELECT event_id, prompt_tokens, completion_tokens, http_status, error_type, "
                "partial FROM usage_events"
            )
        finally:
            await connection.close()
        return {str(row["event_id"]): row for row in rows}

    async def wait_for_rows(self, expected: int, seconds: float) -> dict[str, asyncpg.Record]:
        deadline = time.monotonic() + seconds
        while True:
            rows = await self.rows()
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.25)


def start(server: Server) -> Server:
    server.start()
    if server.url:
        server.wait_until_healthy("/ready", READY_SECONDS)
    return server


@pytest.fixture
async def pipeline(postgres_url: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Pipeline]:
    # Tokens are paced so that streams are still running when a process is killed.
    engine = create_engine_app(engine_config(seconds_per_token=0.01))
    await runner.upgrade(postgres_url)
    api_key_secret = secrets.token_urlsafe(48)
    env = {
        "PATH": "/usr/bin:/bin",
        "IAS_MODE": "production",
        "IAS_LOG_LEVEL": "INFO",
        "IAS_DATABASE_URL": postgres_url,
        "IAS_REDIS_URL": REDIS_URL,
        "IAS_REDIS_KEY_PREFIX": f"usage-{uuid.uuid4().hex[:8]}:",
        "IAS_RABBITMQ_URL": amqp_url,
        "IAS_JWT_SECRET": secrets.token_urlsafe(48),
        "IAS_API_KEY_SECRET": api_key_secret,
        "IAS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "IAS_ANALYTICS__BATCH_MAX_WAIT_MS": "50",
    }
    with ServerThread(engine) as engine_server:
        tenant = await seed(postgres_url, api_key_secret, engine_server.url)
        pipeline = Pipeline(tmp_path, postgres_url, engine, engine_server.url, tenant, env)
        try:
            yield pipeline
        finally:
            for server in reversed(pipeline.servers):
                server.stop()


@contextlib.contextmanager
def broker_stopped() -> Iterator[None]:
    """RabbitMQ's application stopped (connections dropped and refused), started again after."""
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        yield
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(
            ["rabbitmqctl", "await_startup"], check=True, capture_output=True, timeout=120
        )
