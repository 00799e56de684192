"""The production-shaped stack, started from Python for end-to-end tests.

Real PostgreSQL, Redis and RabbitMQ (a database, a key prefix and a virtual host of the stack's
own), and every IAS process as it runs in production, each a separate OS process started from
the project's console scripts:

    two mock engines ─┐                      ┌─ router-a ─┐
                      ├── fault proxies ──── ├─ router-b ─┤── fault proxies ── PostgreSQL,
    control plane ────┘                      └────────────┘                   Redis, RabbitMQ
    usage worker ─────────────────────────────────────────────────────────────┘

Every link from a process to a service or an engine runs through a `FaultProxy`, so a test
can delay, reset or blackhole it. The routers, the control plane and the worker have a
PostgreSQL link each, so a test can tell which of them talked to the database.

The stack is set up the way an operator would: `ias migrate`, `ias-admin bootstrap`,
`ias-admin login` and `ias-admin model add` with both engines as backends. Tests make their
tenants through the control plane's HTTP API and call `/v1` with the `openai` SDK or raw HTTP.
The engines' token logs (`GET /mock/log`) are the billing oracle.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from bench.router.processes import Server, free_port
from prometheus_client.parser import text_string_to_metric_families

from ias.engine.tokenlog import RequestStatus
from ias.kit.tracing import trace_id_of
from tests.conftest import POSTGRES_ADMIN_DSN, RABBITMQ_URL, rabbitmq_vhost
from tests.e2e.faults import FaultProxy

BIN = Path(sys.executable).parent
MODEL = "e2e-chat"
UPSTREAM = "org/e2e-chat-7b"
INPUT_PRICE = 1.0  # USD per million tokens: cost = prompt tokens micro-dollars
OUTPUT_PRICE = 2.0
ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "quartz-meadow-91-lantern"
READY_SECONDS = 40.0
TOKEN_SECONDS = 0.005  # the engines' pace: streams last long enough to be cut mid-way
ROUTER_NAMES = ("router-a", "router-b")
ENGINE_NAMES = ("engine-a", "engine-b")


@dataclass(frozen=True)
class Tenant:
    org_id: str
    key: str
    key_id: str


@dataclass(frozen=True)
class EngineRecord:
    """One request as an engine saw it (a row of its token log)."""

    request_id: str
    engine: str
    prompt_tokens: int
    completion_tokens: int
    status: RequestStatus
    stream: bool
    finished: float | None
    trace_id: str | None  # of the `traceparent` it arrived with: the client's trace


@dataclass
class Stack:
    workdir: Path
    dsn: str  # asyncpg form, straight to the database (the tests' own view)
    amqp_url: str  # the stack's virtual host, straight to RabbitMQ (the tests' own view)
    env: dict[str, str]
    proxies: dict[str, FaultProxy]
    engines: dict[str, Server]
    routers: dict[str, Server]
    control: Server
    worker: Server
    admin_token: str = ""
    servers: list[Server] = field(default_factory=list)

    # --- addresses ---------------------------------------------------------------------------

    def router_url(self, name: str = "router-a") -> str:
        return self.routers[name].url

    def v1(self, name: str = "router-a") -> str:
        return self.routers[name].url + "/v1"

    @property
    def api(self) -> str:
        return self.control.url + "/api"

    def metric(self, server: Server, name: str) -> float:
        """The sum of a metric's samples in a process's `/metrics` (0 when it has none)."""
        text = httpx.get(server.url + "/metrics", timeout=10).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        )

    def heal(self) -> None:
        for proxy in self.proxies.values():
            proxy.heal()

    # --- tenants -----------------------------------------------------------------------------

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api, headers={"authorization": f"Bearer {self.admin_token}"}, timeout=30
        )

    def tenant(self, limits: dict[str, Any] | None = None, **key: Any) -> Tenant:
        """A new org owned by the super admin, with `limits`, and an API key (`key` fields)."""
        with self.admin() as api:
            org = _ok(api.post("/orgs", json={"name": f"Tenant {uuid.uuid4().hex[:6]}"}))
            if limits:
                _ok(api.patch(f"/admin/orgs/{org['id']}/limits", json=limits))
            created = _ok(api.post(f"/orgs/{org['id']}/api-keys", json={"name": "e2e", **key}))
        return Tenant(org["id"], created["key"], created["id"])

    # --- processes ---------------------------------------------------------------------------

    def restart(self, server: Server, *, kill: bool = False) -> None:
        """Stop (SIGKILL with `kill`) and start again with the same home: same spool, same log."""
        if server.process is not None and server.process.poll() is None:
            if kill:
                server.process.send_signal(signal.SIGKILL)
                server.process.wait()
            else:
                server.stop()
        _start(server, append=True)

    def ensure_running(self) -> None:
        """Start again whatever a test killed and did not bring back."""
        for server in self.servers:
            if server.process is None or server.process.poll() is not None:
                _start(server, append=True)

    # --- the oracle and the ledger -----------------------------------------------------------

    def engine_records(self) -> dict[str, EngineRecord]:
        """Every request both engines saw, by request id (the usage event's id)."""
        records: dict[str, EngineRecord] = {}
        for name, engine in self.engines.items():
            for raw in httpx.get(engine.url + "/mock/log", timeout=10).json():
                record = EngineRecord(
                    raw["request_id"],
                    name,
                    raw["prompt_tokens"],
                    raw["completion_tokens"],
                    RequestStatus(raw["status"]),
                    raw["stream"],
                    raw["finished"],
                    trace_id_of(raw["traceparent"]),
                )
                assert record.request_id not in records, f"two engines saw {record.request_id}"
                records[record.request_id] = record
        return records

    def clear_engine_logs(self) -> None:
        for engine in self.engines.values():
            httpx.delete(engine.url + "/mock/log", timeout=10).raise_for_status()

    async def rows(self, org_id: str) -> dict[str, asyncpg.Record]:
        """The ledger's raw rows of one org, by event id."""
        connection = await asyncpg.connect(self.dsn)
        try:
            rows = await connection.fetch(
                "SELECT event_id, prompt_tokens, completion_tokens, http_status, error_type, "
                "partial, cost_micros, trace_id FROM usage_events WHERE org_id = $1::uuid",
                org_id,
            )
        finally:
            await connection.close()
        return {str(row["event_id"]): row for row in rows}

    async def wait_for_rows(
        self, org_id: str, expected: int, seconds: float = 60.0
    ) -> dict[str, asyncpg.Record]:
        """The org's rows once there are `expected` of them and no more arrive for a moment."""
        deadline = time.monotonic() + seconds
        rows = await self.rows(org_id)
        while len(rows) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            rows = await self.rows(org_id)
        await asyncio.sleep(1.0)  # a duplicate would land now
        return await self.rows(org_id)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.dsn)
        try:
            rows: list[asyncpg.Record] = await connection.fetch(query, *args)
            return rows
        finally:
            await connection.close()


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _start(server: Server, *, append: bool = False) -> None:
    if append and server.log_path.exists():
        server.log_path.rename(server.log_path.with_suffix(f".{time.monotonic_ns()}.log"))
    server.start()
    if server.url:
        server.wait_until_healthy("/ready", READY_SECONDS)


def _run(command: list[str], env: dict[str, str], input: str | None = None) -> str:
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, input=input, check=False
    )
    assert done.returncode == 0, f"{' '.join(command[:3])}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _admin_sql(statement: str) -> None:
    async def run() -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    asyncio.run(run())


def _database() -> tuple[str, str]:
    name = f"ias_e2e_{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


@contextlib.contextmanager
def running_stack(workdir: Path, **settings: str) -> Iterator[Stack]:
    """The whole stack, torn down afterwards (processes, proxies, database, virtual host).

    `settings` are extra `IAS_*` variables for every IAS process."""
    database, dsn = _database()
    proxies: dict[str, FaultProxy] = {}
    servers: list[Server] = []
    try:
        with rabbitmq_vhost() as amqp_url:
            vhost = amqp_url.removeprefix(RABBITMQ_URL)
            proxies |= {
                name: FaultProxy(name, port).start()
                for name, port in (
                    ("postgres-router", 5432),
                    ("postgres-control", 5432),
                    ("postgres-worker", 5432),
                    ("redis", 6379),
                    ("rabbitmq", 5672),
                )
            }
            env = _base_env(workdir, proxies, vhost) | settings
            _run([str(BIN / "ias"), "migrate"], env | {"IAS_DATABASE_URL": _sql(dsn)})
            engines = _engines(workdir, proxies, servers)

            def database_via(role: str) -> dict[str, str]:
                address = proxies[f"postgres-{role}"].address
                return env | {
                    "IAS_DATABASE_URL": f"postgresql+asyncpg://postgres@{address}/{database}"
                }

            control = _server(
                "control", ["serve", "control"], database_via("control"), workdir, servers
            )
            routers = {
                name: _server(name, ["serve", "router"], database_via("router"), workdir, servers)
                for name in ROUTER_NAMES
            }
            worker = _server(
                "worker", ["worker", "usage"], database_via("worker"), workdir, servers
            )
            stack = Stack(workdir, dsn, amqp_url, env, proxies, engines, routers, control, worker)
            stack.servers = servers
            for server in servers:
                _start(server)
            stack.admin_token = _operator_setup(stack, dsn)
            yield stack
    finally:
        for server in reversed(servers):
            server.stop()
        for proxy in proxies.values():
            proxy.stop()
        _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _sql(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def _base_env(workdir: Path, proxies: dict[str, FaultProxy], vhost: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "IAS_MODE": "production",
        "IAS_LOG_LEVEL": "INFO",
        "IAS_REDIS_URL": f"redis://{proxies['redis'].address}/0",
        "IAS_REDIS_KEY_PREFIX": f"e2e-{uuid.uuid4().hex[:8]}:",
        "IAS_RABBITMQ_URL": f"amqp://guest:guest@{proxies['rabbitmq'].address}/{vhost}",
        "IAS_JWT_SECRET": secrets.token_urlsafe(48),
        "IAS_API_KEY_SECRET": secrets.token_urlsafe(48),
        "IAS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "IAS_ANALYTICS__BATCH_MAX_WAIT_MS": "50",
        # Short deadlines and probes, so faults show within a test's patience.
        "IAS_ROUTER__PROBE_INTERVAL_SECONDS": "0.5",
        "IAS_ROUTER__CONNECT_TIMEOUT_SECONDS": "1",
        "IAS_ROUTER__FIRST_TOKEN_TIMEOUT_SECONDS": "3",
        "IAS_ROUTER__BETWEEN_CHUNKS_TIMEOUT_SECONDS": "2",
        "IAS_ROUTER__BODY_READ_SECONDS": "3",
        "IAS_CONTROL__BODY_READ_SECONDS": "3",
        "IAS_SERVER__HEADER_TIMEOUT_SECONDS": "3",
        "IAS_CONTROL__PUBLIC_URL": "http://127.0.0.1",
        "XDG_CONFIG_HOME": str(workdir / "admin-config"),
    }


def _server(
    name: str, args: list[str], env: dict[str, str], workdir: Path, servers: list[Server]
) -> Server:
    own = env | {"IAS_HOME": str(workdir / name)}
    url = ""
    if args[0] == "serve":
        port = free_port()
        args = [*args, "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
    server = Server(name, [str(BIN / "ias"), *args], own, workdir / f"{name}.log", url)
    servers.append(server)
    return server


def _engines(
    workdir: Path, proxies: dict[str, FaultProxy], servers: list[Server]
) -> dict[str, Server]:
    engines = {}
    for name in ENGINE_NAMES:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "IAS_ENGINE__CHAT_MODELS": f'["{UPSTREAM}"]',
            "IAS_ENGINE__EMBEDDING_MODELS": "[]",
            "IAS_ENGINE__SECONDS_PER_TOKEN": str(TOKEN_SECONDS),
            "IAS_ENGINE__MAX_CONCURRENCY": "512",
            "IAS_HOME": str(workdir / name),
        }
        command = [str(BIN / "ias"), "serve", "mock-engine", "--host", "127.0.0.1"]
        command += ["--port", str(port)]
        server = Server(name, command, env, workdir / f"{name}.log", f"http://127.0.0.1:{port}")
        servers.append(server)
        engines[name] = server
        proxies[name] = FaultProxy(name, port).start()
    return engines


def _operator_setup(stack: Stack, dsn: str) -> str:
    """What an operator does on a new installation, with `ias-admin`; returns a super admin's
    access token for the tests' own API calls."""
    admin = [str(BIN / "ias-admin")]
    env = stack.env | {"IAS_DATABASE_URL": _sql(dsn), "IAS_URL": stack.control.url}
    _run(
        [*admin, "bootstrap", "create-super-admin", "--email", ADMIN_EMAIL],
        env | {"IAS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    _run([*admin, "login", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD], env)
    backends = [f"http://{stack.proxies[name].address}/v1" for name in ENGINE_NAMES]
    _run(
        [*admin, "model", "add", MODEL, "--kind", "chat", "--upstream-model", UPSTREAM]
        + ["--context-length", "4096", "--input-price-per-mtok", str(INPUT_PRICE)]
        + ["--output-price-per-mtok", str(OUTPUT_PRICE)]
        + [arg for url in backends for arg in ("--backend", url)],
        env,
    )
    login = httpx.post(
        stack.api + "/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    stack.admin_token = _ok(login)["access_token"]
    _wait_until_served(stack)
    return stack.admin_token


def _wait_until_served(stack: Stack) -> None:
    """Both routers serve the model (they learn of it from Redis, or their next catalog read)."""
    key = stack.tenant().key
    deadline = time.monotonic() + 40
    pending = set(stack.routers)
    while pending:
        for name in list(pending):
            answer = httpx.get(
                stack.v1(name) + "/models", headers={"authorization": f"Bearer {key}"}, timeout=5
            )
            if answer.status_code == 200 and MODEL in {m["id"] for m in answer.json()["data"]}:
                pending.discard(name)
        assert time.monotonic() < deadline, f"{pending} never served {MODEL}"
        time.sleep(0.2)
