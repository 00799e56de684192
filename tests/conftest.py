"""Fixtures shared by every test: real service URLs and throwaway databases.

The services are real (PostgreSQL, Redis, RabbitMQ on loopback). `make test` starts them; a
test that needs one that is down fails loudly rather than skipping.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from ias.settings import Settings

POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def ias_home(tmp_path: Path) -> Path:
    return tmp_path / "ias-home"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Remove every IAS_* variable so a test sees only what it sets."""
    for name in list(os.environ):
        if name.upper().startswith("IAS_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:  # pragma: no cover - environment failure
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); run `make services`")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ias_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def embedded_settings(clean_env: pytest.MonkeyPatch, ias_home: Path) -> Settings:
    return Settings(home=ias_home)


def _rabbitmqctl(*args: str) -> None:
    try:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)
    except FileNotFoundError:  # pragma: no cover - environment failure
        pytest.fail("rabbitmqctl is not installed; install rabbitmq-server and run `make services`")
    except subprocess.CalledProcessError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {exc.stderr.decode(errors='replace')}")


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A fresh, empty RabbitMQ virtual host (the ledger's queues have fixed names), deleted
    afterwards with everything in it; yields its URL."""
    vhost = f"ias-test-{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"{RABBITMQ_URL}{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """A RabbitMQ virtual host of the test's own."""
    with rabbitmq_vhost() as url:
        yield url
