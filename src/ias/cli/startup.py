"""The steps commands take before doing their work, each failing as one `StartupError` line.

Settings and secrets, the database (reachable? migrated?) and the listening socket. Messages
name the database by host and name only: a URL may carry a password.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from ias.errors import StartupError
from ias.kit.db import Database
from ias.secrets import ensure_home, load_settings, resolve_secrets
from ias.settings import Mode, Settings

CONNECT_TIMEOUT_SECONDS = 10.0
# SQLAlchemy renders a wrapped driver error as "<class 'asyncpg...Error'>: message".
_DRIVER_CLASS_PREFIX = re.compile(r"^<class '[\w.]+'>:\s*")


def process_settings() -> Settings:
    """Settings for a serving process: validated, with every secret resolved."""
    return resolve_secrets(load_settings())


def database_settings() -> Settings:
    """Settings for a command that only needs the database (migrations, bootstrap)."""
    settings = load_settings()
    if settings.database_url is None:
        if settings.mode is Mode.PRODUCTION:
            raise StartupError("production mode needs IAS_DATABASE_URL (set it in the environment)")
        settings = settings.model_copy(update={"home": ensure_home(settings.home)})
    return settings


def describe_database(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the database"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite database {parsed.database}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL database {parsed.database!r} on {parsed.host or 'localhost'}{port}"


def database_error_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_SECONDS:g} seconds"
    if isinstance(exc, DBAPIError):
        exc = exc.orig if exc.orig is not None else exc
    elif isinstance(exc, SQLAlchemyError):
        return type(exc).__name__
    text = str(exc).strip() or type(exc).__name__
    return _DRIVER_CLASS_PREFIX.sub("", text).splitlines()[0]


async def open_database(settings: Settings) -> Database:
    """A `Database` that has answered a query, or a `StartupError` naming where it is."""
    url = settings.effective_database_url
    db = Database.from_url(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            await db.ping()
    except (OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
        await db.dispose()
        reason = database_error_reason(exc)
        raise StartupError(f"{describe_database(url)} is not reachable: {reason}") from None
    return db


async def migrate(settings: Settings, revision: str = "head", *, downgrade: bool = False) -> None:
    # Alembic is imported only by commands that migrate: serving processes never need it.
    from alembic.util import CommandError

    from ias.migrations import runner

    url = settings.effective_database_url
    try:
        if downgrade:
            await runner.downgrade(url, revision)
        else:
            await runner.upgrade(url, revision)
    except CommandError as exc:
        raise StartupError(f"cannot migrate {describe_database(url)}: {exc}") from None
    except (OSError, SQLAlchemyError) as exc:
        reason = database_error_reason(exc)
        raise StartupError(f"migrating {describe_database(url)} failed: {reason}") from None


async def migrate_if_needed(settings: Settings) -> None:
    """Bring the embedded database to the latest schema; an external one only when it is empty.

    The embedded SQLite file belongs to this installation, so it always follows the code, as
    `ias up` does. An operator's PostgreSQL is migrated on purpose (`ias migrate`); an admin
    command only initialises it when it has no schema at all.
    """
    from ias.migrations import runner

    url = settings.database_url
    if url is None or await runner.current_revision(url) is None:
        await migrate(settings)


def bind_port(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now so a busy port fails before any other work."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    # As uvicorn does: a port left in TIME_WAIT by a previous run is free to reuse.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use") from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
