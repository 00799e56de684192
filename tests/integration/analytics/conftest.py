"""Migrated databases for the ledger: PostgreSQL (partitioned) and SQLite (embedded)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ias.kit.db import Database
from ias.migrations import runner


@pytest.fixture
async def pg_database(postgres_url: str) -> AsyncIterator[Database]:
    await runner.upgrade(postgres_url)
    db = Database.from_url(postgres_url)
    yield db
    await db.dispose()
