"""The processes and stores of one usage benchmark run, set up and torn down around it.

A fresh PostgreSQL database (migrated, seeded with the router benchmark's model, orgs and keys)
and a fresh RabbitMQ virtual host; then a mock engine, a router, the usage worker and the
control plane, each its own process, configured as in production.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.router import database
from bench.router.processes import Pinning, Server, free_port, venv_command
from bench.router.stack import REDIS_URL, _clean_env, engine_server, migrate, rabbitmq_vhost
from ias.kit.passwords import hash_password

READY_SECONDS = 60.0


@dataclass
class UsageStack:
    db: database.BenchDatabase
    amqp_url: str
    env: dict[str, str]
    router: Server
    control: Server
    worker: Server
    key: str
    org_id: str
    email: str
    password: str

    def describe(self) -> str:
        return (
            "mock engine, router, `ias worker usage` and control plane as separate processes "
            "(unpinned); PostgreSQL, RabbitMQ (quorum queue) and Redis on loopback"
        )


async def _member_login(url: str, password: str) -> tuple[str, str]:
    """Give the seeded user a password; returns (its email, the plain key's org id)."""
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        email = await connection.fetchval("SELECT email FROM users")
        await connection.execute("UPDATE users SET password_hash = $1", hash_password(password))
        org_id = await connection.fetchval("SELECT org_id FROM api_keys WHERE name = 'bench'")
    finally:
        await connection.close()
    return str(email), str(org_id)


def _server(name: str, command: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    full = [venv_command("ias"), *command, "--host", "127.0.0.1", "--port", str(port)]
    return Server(name, full, env, workdir / f"{name}.log", f"http://127.0.0.1:{port}")


@contextmanager
def running_usage_stack() -> Iterator[UsageStack]:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ias-usage-")))
        db = database.create_database()
        stack.callback(database.drop_database, db)
        amqp_url = stack.enter_context(rabbitmq_vhost())
        env = {
            **_clean_env(),
            "IAS_MODE": "production",
            "IAS_HOME": str(workdir / "home"),
            "IAS_LOG_LEVEL": "WARNING",
            "IAS_DATABASE_URL": db.url,
            "IAS_REDIS_URL": REDIS_URL,
            "IAS_REDIS_KEY_PREFIX": f"bench-{secrets.token_hex(4)}:",
            "IAS_RABBITMQ_URL": amqp_url,
            "IAS_JWT_SECRET": secrets.token_urlsafe(48),
            "IAS_API_KEY_SECRET": secrets.token_urlsafe(48),
            "IAS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        }
        migrate(env)
        engine = engine_server(workdir, Pinning(False, "unpinned"))
        engine.start()
        stack.callback(engine.stop)
        engine.wait_until_healthy("/health", READY_SECONDS)
        keys = database.seed(db, env["IAS_API_KEY_SECRET"], engine.url)
        password = secrets.token_urlsafe(16)
        email, org_id = asyncio.run(_member_login(db.url, password))
        router = _server("router", ["serve", "router"], env, workdir)
        control = _server("control", ["serve", "control"], env, workdir)
        worker = Server(
            "worker", [venv_command("ias"), "worker", "usage"], env, workdir / "worker.log", ""
        )
        stack.callback(worker.stop)  # started by the ingest phase
        for server in (router, control):
            server.start()
            stack.callback(server.stop)
            server.wait_until_healthy("/ready", READY_SECONDS)
        yield UsageStack(
            db, amqp_url, env, router, control, worker, keys.plain, org_id, email, password
        )
