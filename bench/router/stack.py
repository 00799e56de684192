"""Everything under test, started for one run and torn down after it, whatever happens."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson
import redis

from bench.router import database, offline
from bench.router.config import (
    DIRECT,
    LIMITED,
    MODEL,
    PROMPT,
    ROUTER,
    BenchConfig,
    Target,
    chat_body,
    hold_body,
    stream_body,
)
from bench.router.litellm import STARTUP_SECONDS, litellm_server, version
from bench.router.logs import fallback_causes
from bench.router.processes import (
    CLIENT_CORE,
    ROUTER_CORE,
    Pinning,
    Server,
    free_port,
    venv_command,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class LiteLLMInfo:
    version: str
    offline: str  # what the strace check found, in a sentence


@dataclass
class Stack:
    workdir: Path
    engine: Server
    router: Server
    litellm: Server | None
    targets: list[Target]
    seed: int
    redis_prefix: str
    database_url: str
    router_env: dict[str, str]
    pinning: Pinning
    litellm_info: LiteLLMInfo | None = None

    @contextmanager
    def fresh_router(self) -> Iterator[Server]:
        """A second router process, started now and stopped on leaving: the same command and
        settings as the measured one, with a home (and so a usage spool) of its own."""
        env = {**self.router_env, "IAS_HOME": str(self.workdir / "fresh-router-home")}
        server = router_server(self.workdir, self.pinning, env, "fresh-router")
        try:
            server.start()
            server.wait_until_healthy("/ready", STARTUP_TIMEOUT)
            yield server
        finally:
            server.stop()

    def settle_ledger(self, quiet_seconds: float = 0.5, most_seconds: float = 60.0) -> None:
        """Wait until the usage pipeline has stored what the last phase sent (its row count
        stops moving), so that its work is not charged to the next phase's arm."""
        asyncio.run(_settle(self.database_url, quiet_seconds, most_seconds))

    def limiter_fallbacks(self) -> int:
        """How many times so far the router's limiter gave up on Redis and limited locally."""
        return sum(self.limiter_fallback_causes().values())

    def limiter_fallback_causes(self) -> Counter[str]:
        """The router's limiter fallbacks so far, counted by the error that caused them."""
        try:
            return fallback_causes(self.router.log_path.read_text(errors="replace"))
        except FileNotFoundError:
            return Counter()

    def redis_cpu_seconds(self) -> float:
        """CPU seconds the Redis server has used (`INFO cpu`), wherever it runs."""
        with redis.Redis.from_url(REDIS_URL, socket_timeout=5) as client:
            cpu = client.info("cpu")
        return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def forget_redis_keys(prefix: str) -> None:
    """Delete the run's keys: the limit counters (monthly ones live for weeks) and the rest."""
    with redis.Redis.from_url(REDIS_URL, socket_timeout=5) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=prefix + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)


def _clean_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("IAS_")}


def engine_server(workdir: Path, pinning: Pinning, open_streams: int) -> Server:
    port = free_port()
    # Requests beyond this wait in the engine's queue: room for the open-streams phase's
    # streams (the 1,024 covers the throughput and rate phases).
    concurrency = max(1024, 2 * open_streams)
    env = {
        **_clean_env(),
        "IAS_HOME": str(workdir / "engine-home"),
        "IAS_LOG_LEVEL": "WARNING",
        "IAS_ENGINE__CHAT_MODELS": orjson.dumps([MODEL]).decode(),
        "IAS_ENGINE__EMBEDDING_MODELS": "[]",
        "IAS_ENGINE__SECONDS_PER_TOKEN": "0",
        "IAS_ENGINE__PROMPT_SECONDS_PER_TOKEN": "0",
        "IAS_ENGINE__MAX_CONCURRENCY": str(concurrency),
    }
    command = [*pinning.prefix(CLIENT_CORE), venv_command("ias"), "serve", "mock-engine"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return Server("mock engine", command, env, workdir / "engine.log", f"http://127.0.0.1:{port}")


async def _settle(database_url: str, quiet_seconds: float, most_seconds: float) -> None:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + most_seconds
        last = -1
        while time.monotonic() < deadline:
            count = await connection.fetchval("SELECT count(*) FROM usage_events")
            if count == last:
                return
            last = count
            await asyncio.sleep(quiet_seconds)
    finally:
        await connection.close()


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of the run's own (the ledger's queues have fixed names)."""
    name = f"ias-bench-{secrets.token_hex(4)}"
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    try:
        yield f"{RABBITMQ_URL}{name}"
    finally:
        _rabbitmqctl("delete_vhost", name)


def _rabbitmqctl(*args: str) -> None:
    try:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"rabbitmqctl {' '.join(args)} failed ({exc}); run `make services`"
        ) from None


def worker_server(workdir: Path, pinning: Pinning, env: dict[str, str]) -> Server:
    """The usage consumer, beside the engine: the router's usage events end in PostgreSQL."""
    command = [*pinning.prefix(CLIENT_CORE), venv_command("ias"), "worker", "usage"]
    return Server("usage worker", command, env, workdir / "worker.log", "")


def router_env(workdir: Path, db: database.BenchDatabase, amqp_url: str) -> dict[str, str]:
    return {
        **_clean_env(),
        "IAS_MODE": "embedded",
        "IAS_HOME": str(workdir / "router-home"),
        "IAS_LOG_LEVEL": "WARNING",
        "IAS_DATABASE_URL": db.url,
        "IAS_REDIS_URL": REDIS_URL,
        "IAS_RABBITMQ_URL": amqp_url,
        "IAS_REDIS_KEY_PREFIX": f"bench-{secrets.token_hex(4)}:",
        "IAS_JWT_SECRET": secrets.token_urlsafe(48),
        "IAS_API_KEY_SECRET": secrets.token_urlsafe(48),
        "IAS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
    }


def router_server(
    workdir: Path, pinning: Pinning, env: dict[str, str], name: str = "router"
) -> Server:
    port = free_port()
    command = [*pinning.prefix(ROUTER_CORE), venv_command("ias"), "serve", "router"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return Server(name, command, env, workdir / f"{name}.log", f"http://127.0.0.1:{port}")


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [venv_command("ias"), "migrate"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"`ias migrate` failed:\n{done.stdout}{done.stderr}")


def _post_json(url: str, body: bytes) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        url, data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, object] = orjson.loads(response.read())
    return answer


def long_enough_seed(engine_url: str, tokens: int) -> int:
    """A request seed whose answer runs to at least `tokens` tokens before a natural stop,
    so every stream has exactly that many token chunks."""
    for seed in range(200):
        body = orjson.dumps(
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": tokens,
                "seed": seed,
            }
        )
        answer = _post_json(engine_url + "/v1/chat/completions", body)
        usage = answer["usage"]
        if isinstance(usage, dict) and usage["completion_tokens"] == tokens:
            return seed
    raise SystemExit(f"no seed below 200 gives a {tokens}-token answer from the mock engine")


def _target(name: str, server: Server, key: str, seed: int, config: BenchConfig) -> Target:
    return Target(
        name=name,
        base_url=server.url + "/v1",
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
        chat_body=chat_body(seed),
        stream_body=stream_body(seed, config.stream_chunks, config.token_delay_seconds),
        pid=server.pid,
        hold_body=hold_body(seed, config.hold_token_delay_seconds),
    )


def _offline_check(
    bin_dir: Path, engine_url: str, workdir: Path, pinning: Pinning, seed: int, config: BenchConfig
) -> str:
    """Runs LiteLLM once under strace (see `bench/router/offline.py`); stops the run if it
    reached for the network. Returns what was found, for the report."""
    if not offline.available():
        return "not checked: strace is not installed (`apt-get install strace`)"
    check_dir = workdir / "offline-check"
    check_dir.mkdir()
    traced = litellm_server(bin_dir, engine_url, check_dir, pinning)
    stream = stream_body(seed, config.stream_chunks, 0)
    found = offline.check(
        traced, check_dir / "litellm.strace", STARTUP_SECONDS, chat_body(seed), stream
    )
    if found.attempts:
        raise SystemExit(
            "LiteLLM reached for the network (it must run offline):\n" + "\n".join(found.attempts)
        )
    own = {Path(word).name for word in traced.command}  # strace, taskset, litellm itself
    programs = ", ".join(sorted(set(found.programs) - own)) or "none"
    calls = f"{found.connects} connect() call{'s' if found.connects != 1 else ''}"
    return (
        f"checked with strace before the run (startup, one chat completion, one stream): "
        f"{calls}, all to loopback, no name lookup; other programs run: {programs}"
    )


@contextmanager
def running_stack(config: BenchConfig, pinning: Pinning) -> Iterator[Stack]:
    with rabbitmq_vhost() as amqp_url, _stack(config, pinning, amqp_url) as stack:
        yield stack


@contextmanager
def _stack(config: BenchConfig, pinning: Pinning, amqp_url: str) -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="ias-router-bench-"))
    servers: list[Server] = []
    db: database.BenchDatabase | None = None
    redis_prefix = ""
    try:
        engine = engine_server(workdir, pinning, config.open_streams)
        servers.append(engine)
        engine.start()
        engine.wait_until_healthy("/health", STARTUP_TIMEOUT)
        seed = long_enough_seed(engine.url, config.stream_chunks)

        db = database.create_database()
        env = router_env(workdir, db, amqp_url)
        redis_prefix = env["IAS_REDIS_KEY_PREFIX"]
        migrate(env)
        keys = database.seed(db, env["IAS_API_KEY_SECRET"], engine.url)
        worker = worker_server(workdir, pinning, env)
        servers.append(worker)
        worker.start()
        router = router_server(workdir, pinning, env)
        servers.append(router)
        router.start()
        router.wait_until_healthy("/ready", STARTUP_TIMEOUT)

        targets = [
            _target(DIRECT, engine, keys.plain, seed, config),
            _target(ROUTER, router, keys.plain, seed, config),
            _target(LIMITED, router, keys.limited, seed, config),
        ]
        litellm = info = None
        if config.litellm_bin is not None:
            info = LiteLLMInfo(
                version(config.litellm_bin),
                _offline_check(config.litellm_bin, engine.url, workdir, pinning, seed, config),
            )
            litellm = litellm_server(config.litellm_bin, engine.url, workdir, pinning)
            servers.append(litellm)
            litellm.start()
            litellm.wait_until_healthy("/health/liveliness", STARTUP_SECONDS)
            master_key = litellm.env["LITELLM_MASTER_KEY"]
            targets.append(_target("litellm", litellm, master_key, seed, config))
        yield Stack(
            workdir,
            engine,
            router,
            litellm,
            targets,
            seed,
            redis_prefix,
            db.url,
            env,
            pinning,
            info,
        )
    finally:
        for server in reversed(servers):
            server.stop()
        try:
            if db is not None:
                database.drop_database(db)
        finally:
            if redis_prefix:
                forget_redis_keys(redis_prefix)
            shutil.rmtree(workdir, ignore_errors=True)
