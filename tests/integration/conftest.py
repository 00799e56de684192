"""Fixtures for tests that run the same on both SQL dialects the platform supports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ias.kit.db import Database
from ias.migrations import runner


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a SQLite file, then a fresh PostgreSQL database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """`database_url`, migrated to the latest revision and opened."""
    await runner.upgrade(database_url)
    opened = Database.from_url(database_url)
    yield opened
    await opened.dispose()
