"""Composition root: builds the ASGI app of one IAS process from its settings.

Nothing connects at import time; stores are opened in the lifespan and handed to the parts
that need them through `app.state`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from ias.health import ReadinessCheck, health_routes
from ias.http_errors import UnhandledErrorMiddleware, install_error_handlers
from ias.kit.db import Database
from ias.kit.probes import ping_amqp, ping_redis
from ias.kit.requestid import RequestIdMiddleware
from ias.settings import Settings


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


def create_app(settings: Settings, process: Process | str = Process.ALL) -> ASGIApp:
    process = Process(process)
    db = Database.from_url(settings.effective_database_url) if process in _NEEDS_DATABASE else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.db = db
        try:
            yield
        finally:
            if db is not None:
                await db.dispose()

    app = Starlette(
        routes=health_routes(process.value, _readiness_checks(settings, process, db)),
        middleware=[Middleware(RequestIdMiddleware), Middleware(UnhandledErrorMiddleware)],
        lifespan=lifespan,
    )
    install_error_handlers(app)
    return app
