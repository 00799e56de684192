"""`ias up` (the whole platform on one port) and `ias serve <process>` (one process)."""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import ChangeReload

import ias
from ias.app import create_app
from ias.bootstrap import INITIAL_ADMIN_EMAIL, ensure_initial_super_admin
from ias.cli.output import fail, one_line_errors, say, show_initial_admin
from ias.cli.startup import bind_port, migrate, open_database, process_settings
from ias.demo import engine_url, ensure_demo_models
from ias.kit.logging import configure_logging
from ias.kit.spool import MAX_SLOTS
from ias.secrets import load_settings
from ias.server import ServerConfig, forget_dead_workers, multiprocess_metrics, serve_workers
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
WorkersOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=MAX_SLOTS,  # a router worker takes one slot of the usage spool
        help="Worker processes sharing the port; metrics are summed across them.",
    ),
]
ReloadOption = Annotated[
    bool,
    typer.Option(
        "--reload",
        help="Development: restart the process when a source file of the ias package changes.",
    ),
]
# What `--reload` watches: the package's own sources, not the virtualenv or web/node_modules.
PACKAGE_DIR = Path(ias.__file__).resolve().parent


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
    workers: WorkersOption = 1,
    reload: ReloadOption = False,
) -> None:
    """Run one process; it neither migrates (see `ias migrate`) nor creates accounts."""
    if reload and workers > 1:
        raise typer.BadParameter("--reload runs a single worker", param_hint="--workers")
    settings = _serve_settings(process)
    host, port = host or settings.server.host, port or settings.server.port
    with bind_port(host, port) as sock:
        if reload:
            configure_logging(settings.log_level, settings.log_format.value)
            # Not every change it sees is a reason to restart (bytecode, say): keep it quiet.
            logging.getLogger("watchfiles").setLevel(logging.WARNING)
            config = reload_config(process, sock, settings)
            ChangeReload(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
            return
        if workers == 1:
            _run(create_app(settings, process.value), sock, settings)
            return
        configure_logging(settings.log_level, settings.log_format.value)
        with multiprocess_metrics() as metrics_dir:
            app = WorkerApp(settings, process.value, metrics_dir)
            serve_workers(_config(app, sock, settings, workers=workers), sock)


def _serve_settings(process: ServeProcess) -> Settings:
    # The mock engine touches no store, so it needs no database URL or secrets.
    return load_settings() if process is ServeProcess.MOCK_ENGINE else process_settings()


# --- `--reload`: uvicorn's reloader runs the app in a fresh interpreter after every change,
# which imports it by name, so each process has a factory here that builds its app from the
# environment it inherited (settings are read again, so a changed settings.py counts too).
def _reloaded_app(process: ServeProcess) -> ASGIApp:
    settings = _serve_settings(process)
    configure_logging(settings.log_level, settings.log_format.value)
    return create_app(settings, process.value)


def reload_router() -> ASGIApp:
    return _reloaded_app(ServeProcess.ROUTER)


def reload_control() -> ASGIApp:
    return _reloaded_app(ServeProcess.CONTROL)


def reload_analytics() -> ASGIApp:
    return _reloaded_app(ServeProcess.ANALYTICS)


def reload_mock_engine() -> ASGIApp:
    return _reloaded_app(ServeProcess.MOCK_ENGINE)


RELOAD_FACTORIES = {
    ServeProcess.ROUTER: reload_router,
    ServeProcess.CONTROL: reload_control,
    ServeProcess.ANALYTICS: reload_analytics,
    ServeProcess.MOCK_ENGINE: reload_mock_engine,
}


def reload_config(process: ServeProcess, sock: socket.socket, settings: Settings) -> ServerConfig:
    """The server config of `ias serve PROCESS --reload`: the app by import string, built by
    its factory in each new child, watching the package's sources."""
    target = f"{__name__}:{RELOAD_FACTORIES[process].__name__}"
    return _config(target, sock, settings, reload_dirs=[str(PACKAGE_DIR)])


@dataclass(frozen=True, slots=True)
class WorkerApp:
    """Builds the app inside each worker process (it is pickled to them, so: plain data)."""

    settings: Settings
    process: str
    metrics_dir: Path

    def __call__(self) -> ASGIApp:
        configure_logging(self.settings.log_level, self.settings.log_format.value)
        forget_dead_workers(self.metrics_dir)
        return create_app(self.settings, self.process, metrics_dir=self.metrics_dir)


async def _prepare_all_in_one(settings: Settings, engine: str) -> str | None:
    db = await open_database(settings)
    try:
        await migrate(settings)
        await ensure_demo_models(db, settings.engine, engine)
        return await ensure_initial_super_admin(db)
    finally:
        await db.dispose()


def _config(
    app: object,
    sock: socket.socket,
    settings: Settings,
    workers: int = 1,
    *,
    reload_dirs: list[str] | None = None,
) -> ServerConfig:
    host, port = sock.getsockname()[:2]
    reload = reload_dirs is not None
    return ServerConfig(
        app,
        header_timeout_seconds=settings.server.header_timeout_seconds,
        max_header_bytes=settings.server.max_header_bytes,
        host=host,
        port=port,
        workers=workers,
        factory=workers > 1 or reload,
        reload=reload,
        reload_dirs=reload_dirs,
        loop="uvloop",
        lifespan="on",
        log_config=None,  # our logging: one JSON line per record, request ids included
        access_log=False,  # a log line per request costs the hot path; usage events record them
        server_header=False,
    )


def _run(app: ASGIApp, sock: socket.socket, settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format.value)
    server = uvicorn.Server(_config(app, sock, settings))
    server.run(sockets=[sock])
    if not server.started:
        fail("the server did not start; see the log lines above")


def _data_note(settings: Settings) -> str:
    return f" with its data in {settings.home}" if settings.database_url is None else ""


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
