"""`ias up` (the whole platform on one port) and `ias serve <process>` (one process)."""

from __future__ import annotations

import asyncio
import enum
import socket
from typing import Annotated

import typer
import uvicorn
from starlette.types import ASGIApp

from ias.app import create_app
from ias.bootstrap import INITIAL_ADMIN_EMAIL, ensure_initial_super_admin
from ias.cli.output import fail, one_line_errors, say, show_initial_admin
from ias.cli.startup import bind_port, migrate, open_database, process_settings
from ias.demo import engine_url, ensure_demo_models
from ias.kit.logging import configure_logging
from ias.secrets import load_settings
from ias.server import header_deadline_protocol
from ias.settings import Settings


class ServeProcess(enum.StrEnum):
    ROUTER = "router"
    CONTROL = "control"
    ANALYTICS = "analytics"
    MOCK_ENGINE = "mock-engine"


HostOption = Annotated[
    str | None,
    typer.Option(help="Interface to listen on (default: IAS_SERVER__HOST, else 127.0.0.1)."),
]
PortOption = Annotated[
    int | None,
    typer.Option(
        min=1, max=65535, help="Port to listen on (default: IAS_SERVER__PORT, else 8000)."
    ),
]


@one_line_errors
def up(host: HostOption = None, port: PortOption = None) -> None:
    """Run the whole platform from IAS_HOME on one port, setting it up on the first run."""
    settings = process_settings()
    host, port = host or settings.server.host, port or settings.server.port
    with bind_port(host, port) as sock:
        password = asyncio.run(_prepare_all_in_one(settings, engine_url(host, port)))
        if password is not None:
            show_initial_admin(INITIAL_ADMIN_EMAIL, password)
        say(f"IAS is starting on http://{_url_host(host)}:{port}{_data_note(settings)}")
        _run(create_app(settings, "all"), sock, settings)


@one_line_errors
def serve(
    process: Annotated[ServeProcess, typer.Argument(help="Which process to run.")],
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Run one process; it neither migrates (see `ias migrate`) nor creates accounts."""
    # The mock engine touches no store, so it needs no database URL or secrets.
    settings = load_settings() if process is ServeProcess.MOCK_ENGINE else process_settings()
    host, port = host or settings.server.host, port or settings.server.port
    with bind_port(host, port) as sock:
        _run(create_app(settings, process.value), sock, settings)


async def _prepare_all_in_one(settings: Settings, engine: str) -> str | None:
    db = await open_database(settings)
    try:
        await migrate(settings)
        await ensure_demo_models(db, settings.engine, engine)
        return await ensure_initial_super_admin(db)
    finally:
        await db.dispose()


def _run(app: ASGIApp, sock: socket.socket, settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format.value)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=header_deadline_protocol(settings.server.header_timeout_seconds),
        lifespan="on",
        log_config=None,  # our logging: one JSON line per record, request ids included
        access_log=False,  # a log line per request costs the hot path; usage events record them
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        fail("the server did not start; see the log lines above")


def _data_note(settings: Settings) -> str:
    return f" with its data in {settings.home}" if settings.database_url is None else ""


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
