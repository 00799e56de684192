"""`ias worker <name>`: background processes that serve no HTTP (today: `usage`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import typer
from sqlalchemy import inspect

from ias.cli.output import one_line_errors
from ias.cli.startup import CONNECT_TIMEOUT_SECONDS, describe_database, open_database
from ias.errors import StartupError
from ias.kit.db import Database
from ias.kit.logging import configure_logging
from ias.kit.probes import ping_amqp
from ias.kit.tracing import tracing_session
from ias.secrets import load_settings
from ias.settings import AnalyticsSettings, Settings

logger = logging.getLogger("ias.worker")

app = typer.Typer(
    name="worker",
    help="Run a background worker.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.command("usage")
@one_line_errors
def usage() -> None:
    """Store usage events from RabbitMQ in the ledger until SIGTERM or SIGINT.

    Needs IAS_DATABASE_URL (migrated with `ias migrate`) and IAS_RABBITMQ_URL. Set
    IAS_ANALYTICS__METRICS_PORT to serve Prometheus metrics on that port (on
    IAS_ANALYTICS__METRICS_HOST, 127.0.0.1 by default).
    """
    settings = load_settings()
    if settings.database_url is None:
        raise StartupError("ias worker usage needs IAS_DATABASE_URL (set it in the environment)")
    if settings.rabbitmq_url is None:
        raise StartupError("ias worker usage needs IAS_RABBITMQ_URL (set it in the environment)")
    configure_logging(settings.log_level, settings.log_format.value)
    endpoint, ratio = settings.trace_endpoint, settings.otel.sample_ratio
    with tracing_session("ias-worker", endpoint, sample_ratio=ratio):
        asyncio.run(_run_usage(settings, settings.rabbitmq_url))


async def _run_usage(settings: Settings, amqp_url: str) -> None:
    # Imported here: the other commands never need the analytics package.
    from ias.analytics.worker import run_usage_worker

    db = await open_database(settings)
    try:
        await _require_ledger_tables(db, settings.effective_database_url)
        await _require_broker(amqp_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        with _metrics_endpoint(settings.analytics):
            logger.info("usage worker started")
            await run_usage_worker(db, amqp_url, settings.analytics, stop)
        logger.info("usage worker stopped")
    finally:
        await db.dispose()


@contextlib.contextmanager
def _metrics_endpoint(settings: AnalyticsSettings) -> Iterator[None]:
    """The worker's /metrics while it runs, when a port is configured; off by default."""
    if settings.metrics_port is None:
        yield
        return
    from ias.analytics.metrics import serve_metrics

    try:
        stop = serve_metrics(settings.metrics_host, settings.metrics_port)
    except OSError as exc:
        raise StartupError(
            f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port} "
            f"(IAS_ANALYTICS__METRICS_HOST/PORT): {exc.strerror or exc}"
        ) from None
    try:
        yield
    finally:
        stop()


async def _require_ledger_tables(db: Database, url: str) -> None:
    async with db.engine.connect() as connection:
        present = await connection.run_sync(
            lambda sync: (
                inspect(sync).has_table("usage_events") and inspect(sync).has_table("usage_rollups")
            )
        )
    if not present:
        raise StartupError(f"{describe_database(url)} has no usage ledger; run `ias migrate` first")


def describe_broker(url: str) -> str:
    """RabbitMQ by host, port and virtual host only: the URL may carry a password."""
    parts = urlsplit(url)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    port = f":{parts.port}" if parts.port else ""
    return f"RabbitMQ on {parts.hostname or 'localhost'}{port} (virtual host {vhost!r})"


async def _require_broker(url: str) -> None:
    # The AMQP client logs a failed connect as an error of its own; the one line below says it.
    client_logger = logging.getLogger("aiormq")
    level = client_logger.level
    client_logger.setLevel(logging.CRITICAL)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            await ping_amqp(url)
    except Exception as exc:  # aio-pika raises its own tree, OSError and TimeoutError alike
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(f"{describe_broker(url)} is not reachable: {reason}") from None
    finally:
        client_logger.setLevel(level)
