"""Async database access: one engine per process, sessions as units of work.

Repositories flush and never commit; the unit of work that wraps a request or a command
commits once at the end, or rolls everything back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    options: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        options["connect_args"] = {"timeout": 5}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **options)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


_KEEP_ON_REFUSAL = "ias.keep_on_refusal"


def keep_on_refusal(session: AsyncSession) -> None:
    """Commit this unit of work even though the request ends in a refusal.

    For what a refusal must leave behind (a failed-login audit entry, a token family revoked
    on reuse). Writing those in a second transaction instead can deadlock against row locks
    the first still holds.
    """
    session.info[_KEEP_ON_REFUSAL] = True


def kept_on_refusal(session: AsyncSession) -> bool:
    return bool(session.info.pop(_KEEP_ON_REFUSAL, False))


class Database:
    """The engine of a process and the sessions it hands out."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Database:
        return cls(create_engine(url, **options))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; anything it wrote is rolled back."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
