"""The IAS stack in front of a real vLLM server, as an operator runs it.

The control plane, the router and the usage worker are separate processes started from the
project's console scripts on the production stores (a fresh PostgreSQL database, Redis with a
key prefix of its own, a RabbitMQ virtual host of its own). The model is registered the way an
operator does it: `ias-admin bootstrap create-super-admin`, `ias-admin login`, `org create`,
`model add … --backend <vLLM>/v1` and `key create`, all against the control plane's API.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.router.database import create_database, drop_database
from bench.router.processes import Server, free_port, venv_command
from bench.router.stack import forget_redis_keys, rabbitmq_vhost
from bench.vllm.engine import SERVED_MODEL, VllmServer

REDIS_URL = "redis://127.0.0.1:6379/0"
PUBLIC_MODEL = "smollm2"
ADMIN_EMAIL = "vllm-admin@example.com"
ADMIN_PASSWORD = secrets.token_urlsafe(18)  # a throwaway account in a throwaway database
READY_SECONDS = 30.0
# USD per million tokens: small, but not zero, so the ledger computes a cost.
INPUT_PRICE, OUTPUT_PRICE = "0.1", "0.2"


@dataclass
class Stack:
    workdir: Path
    vllm: VllmServer
    database_url: str
    env: dict[str, str]
    control: Server
    router: Server
    worker: Server
    key: str = ""
    org: str = ""
    backend_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def v1(self) -> str:
        return self.router.url + "/v1"

    def admin(self, *args: str) -> str:
        """Run `ias-admin` (signed in through its own config folder); its standard output."""
        env = self.env | {
            "XDG_CONFIG_HOME": str(self.workdir / "admin-config"),
            "IAS_URL": self.control.url,
            "COLUMNS": "200",
        }
        done = subprocess.run(
            [venv_command("ias-admin"), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ias-admin {' '.join(args[:2])} failed:\n{done.stderr}")
        return done.stdout

    async def _ledger(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    def ledger(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return asyncio.run(self._ledger(sql, *args))

    def settle(self, expected: int | None = None, quiet: float = 1.0, most: float = 60.0) -> int:
        """Wait until the ledger holds `expected` rows (or stops growing); the row count."""
        deadline = time.monotonic() + most
        last = -1
        while True:
            count = int(self.ledger("SELECT count(*) AS n FROM usage_events")[0]["n"])
            if expected is not None and count >= expected:
                return count
            if expected is None and count == last:
                return count
            if time.monotonic() > deadline:
                return count
            last = count
            time.sleep(quiet)

    def rows(self) -> dict[str, asyncpg.Record]:
        """The ledger's rows, by event id."""
        rows = self.ledger(
            "SELECT event_id, backend_id, prompt_tokens, completion_tokens, cost_micros, "
            "http_status, error_type, stream, partial, ttft_ms FROM usage_events"
        )
        return {str(row["event_id"]): row for row in rows}

    def new_rows(
        self, before: dict[str, asyncpg.Record], count: int, most: float = 30.0
    ) -> list[asyncpg.Record]:
        """The `count` rows the ledger gained since `before`, once they have all arrived."""
        deadline = time.monotonic() + most
        while True:
            rows = self.rows()
            fresh = [row for event_id, row in rows.items() if event_id not in before]
            if len(fresh) >= count or time.monotonic() > deadline:
                return fresh
            time.sleep(0.1)

    def billed(self) -> tuple[int, int, int]:
        """(rows, prompt tokens, completion tokens) the ledger holds for the vLLM backend."""
        row = self.ledger(
            "SELECT count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, "
            "coalesce(sum(completion_tokens), 0) AS c FROM usage_events WHERE backend_id = $1",
            uuid.UUID(self.backend_id),
        )[0]
        return int(row["n"]), int(row["p"]), int(row["c"])


def _clean_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _server(name: str, args: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    command = [venv_command("ias"), *args, "--host", "127.0.0.1", "--port", str(port)]
    home = {"IAS_HOME": str(workdir / f"{name}-home")}
    return Server(name, command, env | home, workdir / f"{name}.log", f"http://127.0.0.1:{port}")


def _get_json(url: str, key: str) -> Any:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def _wait_for_model(stack: Stack, seconds: float = 30.0) -> None:
    """The router learns of the new model through Redis (or its catalog refresh)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            models = _get_json(stack.v1 + "/models", stack.key)
            if any(model.get("id") == PUBLIC_MODEL for model in models.get("data", [])):
                return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the router does not list {PUBLIC_MODEL} after {seconds:g} s")


def _register(stack: Stack) -> None:
    """What an operator does with `ias-admin` to put the vLLM server behind the router."""
    bootstrap_env = stack.env | {"IAS_ADMIN_PASSWORD": ADMIN_PASSWORD}
    done = subprocess.run(
        [venv_command("ias-admin"), "bootstrap", "create-super-admin", "--email", ADMIN_EMAIL],
        env=bootstrap_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bootstrap failed:\n{done.stdout}{done.stderr}")
    stack.admin("login", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
    org = json.loads(stack.admin("org", "create", "vLLM on CPU", "--json"))
    stack.org = org["slug"]
    model = json.loads(
        stack.admin(
            "model", "add", PUBLIC_MODEL,
            "--kind", "chat",
            "--upstream-model", SERVED_MODEL,
            "--context-length", str(stack.vllm.max_model_len),
            "--input-price-per-mtok", INPUT_PRICE,
            "--output-price-per-mtok", OUTPUT_PRICE,
            "--backend", stack.vllm.url + "/v1",
            "--json",
        )
    )  # fmt: skip
    stack.backend_id = model["backends"][0]["id"]
    key = json.loads(stack.admin("key", "create", stack.org, "--name", "vllm", "--json"))
    stack.key = key["key"]


@contextmanager
def running_stack(workdir: Path, vllm: VllmServer) -> Iterator[Stack]:
    """The IAS processes, a tenant and the registered model, torn down (database, virtual host,
    Redis keys) on the way out. `vllm` must already be running."""
    database = create_database()
    prefix = f"vllm-{secrets.token_hex(4)}:"
    with ExitStack() as cleanup:
        cleanup.callback(drop_database, database)
        cleanup.callback(forget_redis_keys, prefix)
        amqp_url = cleanup.enter_context(rabbitmq_vhost())
        env = _clean_env() | {
            "IAS_MODE": "production",
            "IAS_LOG_LEVEL": "WARNING",
            "IAS_DATABASE_URL": database.url,
            "IAS_REDIS_URL": REDIS_URL,
            "IAS_REDIS_KEY_PREFIX": prefix,
            "IAS_RABBITMQ_URL": amqp_url,
            "IAS_JWT_SECRET": secrets.token_urlsafe(48),
            "IAS_API_KEY_SECRET": secrets.token_urlsafe(48),
            "IAS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
            "IAS_ANALYTICS__BATCH_MAX_WAIT_MS": "50",
            "IAS_ROUTER__CATALOG_REFRESH_SECONDS": "1",
        }
        started = time.monotonic()
        migrated = subprocess.run(
            [venv_command("ias"), "migrate"], env=env, capture_output=True, text=True, check=False
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"`ias migrate` failed:\n{migrated.stdout}{migrated.stderr}")
        control = _server("control", ["serve", "control"], env, workdir)
        router = _server("router", ["serve", "router"], env, workdir)
        worker = Server(
            "worker",
            [venv_command("ias"), "worker", "usage"],
            env | {"IAS_HOME": str(workdir / "worker-home")},
            workdir / "worker.log",
            "",
        )
        stack = Stack(workdir, vllm, database.url, env, control, router, worker)
        for server in (control, router, worker):
            server.start()
            cleanup.callback(server.stop)
        control.wait_until_healthy("/ready", READY_SECONDS)
        router.wait_until_healthy("/ready", READY_SECONDS)
        _register(stack)
        _wait_for_model(stack)
        stack.timings["stack_seconds"] = time.monotonic() - started
        yield stack
