"""Run Alembic from code, inside the caller's event loop; no alembic.ini is needed.

Each call opens its own short-lived engine and runs the whole migration in one transaction:
on PostgreSQL under an advisory lock, so replicas starting together migrate once; on SQLite
with an explicit BEGIN, so a failed migration leaves no half-built schema behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from ias.kit.db import is_sqlite
from ias.migrations.drift import compare

MIGRATIONS_DIR = Path(__file__).resolve().parent
_ADVISORY_LOCK_KEY = 0x1A5_0001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # Config values go through configparser interpolation, where "%" is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migration_engine(database_url: str) -> AsyncEngine:
    # Not kit.db.create_engine: that one turns on SQLite foreign keys, and batch migrations
    # rebuild tables by dropping them, which with foreign keys on would cascade deletes.
    engine = create_async_engine(database_url, poolclass=NullPool)
    if is_sqlite(database_url):
        event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_manual_transactions(
    dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
) -> None:
    # The sqlite3 module opens transactions only before DML, so DDL would autocommit one
    # statement at a time; take over and BEGIN explicitly instead.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


async def _migrate(
    database_url: str, direction: Literal["upgrade", "downgrade"], revision: str
) -> None:
    engine = migration_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _lock(connection)
            await connection.run_sync(_run_command, direction, revision)
    finally:
        await engine.dispose()


async def _lock(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
        )


def _run_command(
    connection: Connection, direction: Literal["upgrade", "downgrade"], revision: str
) -> None:
    config = alembic_config(connection)
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    await _migrate(database_url, "upgrade", revision)


async def downgrade(database_url: str, revision: str) -> None:
    await _migrate(database_url, "downgrade", revision)


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    engine = migration_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def schema_diff(database_url: str) -> list[Any]:
    """What Alembic would change to make the database match the models; empty means no drift."""
    engine = migration_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()
