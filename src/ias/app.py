"""Composition root: builds the ASGI app of one IAS process from its settings.

Nothing connects at import time: clients are created lazily here and started or closed in
the lifespan; the parts that need them receive them explicitly. The data plane (`/v1`) is
dispatched before any framework code, so the hot path pays for one prefix check and the
request-id middleware, nothing else.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import redis.asyncio as redis_asyncio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from ias.body_limit import BodyLimitMiddleware
from ias.contracts.usage import UsageSink
from ias.health import ReadinessCheck, health_routes
from ias.http_errors import UnhandledErrorMiddleware, install_error_handlers
from ias.kit.db import Database
from ias.kit.notify import MemoryNotifier, Notifier
from ias.kit.probes import ping_amqp, ping_redis
from ias.kit.requestid import RequestIdMiddleware
from ias.kit.tracing import tracing_session
from ias.limits.types import Limiter
from ias.router.app import RouterApp
from ias.router.build import build_router, open_router
from ias.router.ledger import SpoolSink
from ias.router.replicas import ReplicaCounter
from ias.settings import Settings
from ias.stores import (
    build_limiter,
    build_notifier,
    build_throttle,
    build_usage_sink,
    redis_client,
)

logger = logging.getLogger("ias.app")
LEDGER_STOP_SECONDS = 10.0


class Process(enum.StrEnum):
    ALL = "all"
    ROUTER = "router"
    CONTROL = "control"
    ANALYTICS = "analytics"
    MOCK_ENGINE = "mock-engine"


# Which stores each process needs to be ready to serve.
_NEEDS_DATABASE = {Process.ALL, Process.ROUTER, Process.CONTROL, Process.ANALYTICS}
_NEEDS_REDIS = {Process.ALL, Process.ROUTER, Process.CONTROL}
_NEEDS_AMQP = {Process.ALL, Process.ROUTER, Process.ANALYTICS}
_SERVES_CONTROL = {Process.ALL, Process.CONTROL}
_SERVES_ROUTER = {Process.ALL, Process.ROUTER}
_KEEPS_LEDGER = {Process.ALL, Process.ANALYTICS}
# How each process names itself in traces; requests under these paths get a span.
_SERVICE_NAMES = {
    Process.ALL: "ias",
    Process.ROUTER: "ias-router",
    Process.CONTROL: "ias-control",
    Process.ANALYTICS: "ias-analytics",
    Process.MOCK_ENGINE: "ias-mock-engine",
}
_TRACED = ("/v1", "/api")


def _readiness_checks(
    settings: Settings, process: Process, db: Database | None
) -> list[ReadinessCheck]:
    checks: list[ReadinessCheck] = []
    if db is not None:
        checks.append(ReadinessCheck("database", db.ping))
    if process in _NEEDS_REDIS and settings.redis_url:
        checks.append(ReadinessCheck("redis", partial(ping_redis, settings.redis_url)))
    if process in _NEEDS_AMQP and settings.rabbitmq_url:
        checks.append(ReadinessCheck("rabbitmq", partial(ping_amqp, settings.rabbitmq_url)))
    return checks


class DataPlaneFirst:
    """Sends `/v1/*` straight to the router and everything else to the framework app."""

    def __init__(self, router: RouterApp | None, rest: ASGIApp) -> None:
        self.router = router
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.router is not None and scope["type"] == "http" and scope["path"].startswith("/v1"):
            await self.router(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def _settle_the_heap() -> None:
    """Move everything built at start-up out of the collector's sight.

    Imports and start-up leave a few hundred thousand long-lived objects; without this, every
    full collection walks them all and stalls the event loop for 100 ms and more under load.
    """
    gc.collect()
    gc.freeze()


@dataclass(slots=True)
class Parts:
    """What one process holds open: built here, opened and closed by the lifespan."""

    db: Database | None = None
    redis: redis_asyncio.Redis | None = None
    notifier: Notifier = field(default_factory=MemoryNotifier)
    replicas: ReplicaCounter | None = None
    limiter: Limiter | None = None
    usage: SpoolSink | None = None
    router: RouterApp | None = None


def _build_parts(settings: Settings, process: Process, usage_sink: UsageSink | None) -> Parts:
    parts = Parts()
    if process in _NEEDS_DATABASE:
        parts.db = Database.from_url(settings.effective_database_url)
    if process in _NEEDS_REDIS:
        parts.redis = redis_client(settings)
    parts.notifier = build_notifier(settings, parts.redis)
    if process in _SERVES_ROUTER | _SERVES_CONTROL and parts.db is not None:
        # One limiter per process: the router enforces, the control plane reads consumption.
        if process in _SERVES_ROUTER and parts.redis is not None:
            parts.replicas = ReplicaCounter(parts.redis, settings.redis_key_prefix)
        parts.limiter = build_limiter(settings, parts.db, parts.replicas)
    if process in _SERVES_ROUTER and parts.db is not None and parts.limiter is not None:
        if usage_sink is None:
            parts.usage = usage_sink = build_usage_sink(settings, parts.db)
        parts.router = build_router(settings, parts.db, parts.notifier, usage_sink, parts.limiter)
    return parts


def _mounts(settings: Settings, process: Process, parts: Parts) -> list[BaseRoute]:
    # Each process imports only what it serves: a router carries no control plane in memory.
    mounts: list[BaseRoute] = []
    if process in _SERVES_CONTROL and parts.db is not None:
        from ias.control.api import create_control_api
        from ias.control.context import build_control_context

        throttle = build_throttle(settings, parts.redis)
        context = build_control_context(settings, parts.db, parts.notifier, throttle, parts.limiter)
        api = create_control_api(context)
        limited = BodyLimitMiddleware(
            api, settings.control.max_body_bytes, settings.control.body_read_seconds
        )
        mounts.append(Mount("/api", app=limited))
    if process is Process.ALL:
        from ias.demo import ENGINE_PATH, engine_config
        from ias.engine import create_engine_app

        mounts.append(Mount(ENGINE_PATH, app=create_engine_app(engine_config(settings.engine))))
    if process in _SERVES_CONTROL:
        from ias.portal_files import portal_mount

        mounts.append(portal_mount())  # last: it takes every path no other route took
    return mounts


async def _keep_ledger(db: Database, settings: Settings, stack: AsyncExitStack) -> None:
    """The ledger's worker in this process: the consumer when there is a broker to consume
    (`ias serve analytics`, `ias up` in production), else only partition and retention upkeep
    (embedded: the router's spool feeds the ledger directly)."""
    from ias.analytics.maintenance import LedgerMaintenance
    from ias.analytics.worker import run_usage_worker

    stop = asyncio.Event()
    if settings.rabbitmq_url is not None:
        work = run_usage_worker(db, settings.rabbitmq_url, settings.analytics, stop)
    else:
        work = LedgerMaintenance(db, settings.analytics).run_periodically(stop)
    task = asyncio.create_task(work, name="usage-ledger")
    task.add_done_callback(_report_ledger_exit)

    async def finish() -> None:
        stop.set()
        # A worker still connecting to the broker does not look at `stop`: do not wait forever.
        done, _ = await asyncio.wait({task}, timeout=LEDGER_STOP_SECONDS)
        if not done:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(finish)


def _report_ledger_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the usage ledger worker stopped", exc_info=task.exception())


async def _open(parts: Parts, stack: AsyncExitStack, settings: Settings, process: Process) -> None:
    """Open everything in `parts`; `stack` closes it again in reverse order."""
    if parts.db is not None:
        stack.push_async_callback(parts.db.dispose)
    if parts.redis is not None:
        stack.push_async_callback(parts.redis.aclose)
    await parts.notifier.start()
    stack.push_async_callback(parts.notifier.close)
    if parts.replicas is not None:
        await parts.replicas.start()
        stack.push_async_callback(parts.replicas.close)
    if parts.limiter is not None:
        stack.push_async_callback(parts.limiter.close)
    if process in _KEEPS_LEDGER and parts.db is not None:
        await _keep_ledger(parts.db, settings, stack)
    if parts.usage is not None:
        # Closed before the database: the embedded ledger writes through it while draining.
        parts.usage.open()
        parts.usage.start()
        stack.push_async_callback(parts.usage.close, settings.router.drain_seconds)
    if parts.router is not None:
        await open_router(parts.router, stack, settings.router.probe_interval_seconds)


def create_app(
    settings: Settings,
    process: Process | str = Process.ALL,
    *,
    usage_sink: UsageSink | None = None,
    metrics_dir: Path | None = None,
) -> ASGIApp:
    """The ASGI app of one process. `usage_sink` replaces the router's spool and ledger (for
    embedding the router somewhere that meters usage its own way, and for tests);
    `metrics_dir` is the shared metrics directory of a server with several workers."""
    process = Process(process)
    if process is Process.MOCK_ENGINE:
        from ias.demo import engine_config
        from ias.engine import create_engine_app

        # The engine is its own app, with vLLM's own /health and /metrics.
        return create_engine_app(engine_config(settings.engine))
    parts = _build_parts(settings, process, usage_sink)
    checks = _readiness_checks(settings, process, parts.db)
    routes = health_routes(process.value, checks, metrics_dir=metrics_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.router = parts.router
        async with AsyncExitStack() as stack:
            stack.enter_context(
                tracing_session(
                    _SERVICE_NAMES[process],
                    settings.trace_endpoint,
                    sample_ratio=settings.otel.sample_ratio,
                )
            )
            await _open(parts, stack, settings, process)
            _settle_the_heap()
            yield

    app = Starlette(
        routes=[*routes, *_mounts(settings, process, parts)],
        middleware=[Middleware(UnhandledErrorMiddleware)],
        lifespan=lifespan,
    )
    install_error_handlers(app)
    return RequestIdMiddleware(DataPlaneFirst(parts.router, app), traced_prefixes=_TRACED)
