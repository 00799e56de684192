"""Monthly partitions of the usage ledger on PostgreSQL, and their absence on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ias.kit.clock import utcnow
from ias.kit.db import create_engine
from ias.migrations import runner
from ias.models import UsageEvent, UsageRollup
from ias.models.partitions import (
    add_months,
    ensure_partition_for,
    ensure_usage_partitions,
    is_missing_partition,
    month_start,
    partition_name,
)


def _event(ts: datetime, event_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4(),
        "ts": ts,
        "org_id": uuid.uuid4(),
        "user_id": None,
        "api_key_id": uuid.uuid4(),
        "model": "demo-chat",
        "backend_id": None,
        "endpoint": "chat.completions",
        "http_status": 200,
        "error_type": None,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cached_tokens": 0,
        "cost_micros": 42,
        "latency_ms": 12,
        "ttft_ms": 3,
        "stream": False,
        "partial": False,
    }


async def _partitions(connection: AsyncConnection) -> set[str]:
    rows = await connection.scalars(
        sa.text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = 'usage_events'::regclass"
        )
    )
    return set(rows)


async def _home_of(connection: AsyncConnection, event_id: uuid.UUID) -> str:
    home: str = await connection.scalar(
        sa.text("SELECT tableoid::regclass::text FROM usage_events WHERE event_id = :id"),
        {"id": event_id},
    )
    return home


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    await runner.upgrade(postgres_url)
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


@pytest.mark.postgres
async def test_migration_creates_previous_through_three_months_ahead(engine: AsyncEngine) -> None:
    this_month = month_start(utcnow())
    expected = {partition_name(add_months(this_month, offset)) for offset in range(-1, 4)}

    async with engine.connect() as connection:
        assert await _partitions(connection) == expected


@pytest.mark.postgres
async def test_events_land_in_the_partition_of_their_utc_month(engine: AsyncEngine) -> None:
    boundary = month_start(utcnow())
    last_of_previous = _event(boundary - timedelta(microseconds=1))
    # 01:00 on the first at UTC+2 is still the previous month in UTC, which is what counts.
    previous_in_utc = _event(
        (boundary - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    )
    first_of_this = _event(boundary)

    async with engine.begin() as connection:
        await connection.execute(sa.insert(UsageEvent), [last_of_previous, first_of_this])
        await connection.execute(sa.insert(UsageEvent), [previous_in_utc])

        previous = partition_name(add_months(boundary, -1))
        assert await _home_of(connection, last_of_previous["event_id"]) == previous
        assert await _home_of(connection, first_of_this["event_id"]) == partition_name(boundary)
        assert previous_in_utc["ts"].day == 1
        assert await _home_of(connection, previous_in_utc["event_id"]) == previous


@pytest.mark.postgres
async def test_ensure_usage_partitions_is_idempotent(engine: AsyncEngine) -> None:
    far = add_months(month_start(utcnow()), 24)

    created = await ensure_usage_partitions(engine, start=far, months=3)
    again = await ensure_usage_partitions(engine, start=far, months=3)
    overlapping = await ensure_usage_partitions(engine, start=add_months(far, -1), months=5)

    assert created == [partition_name(add_months(far, n)) for n in range(3)]
    assert again == []
    assert overlapping == [partition_name(add_months(far, -1)), partition_name(add_months(far, 3))]
    async with engine.connect() as connection:
        assert set(created + overlapping) <= await _partitions(connection)


@pytest.mark.postgres
async def test_given_a_connection_the_caller_owns_the_transaction(engine: AsyncEngine) -> None:
    far = add_months(month_start(utcnow()), 36)

    async with engine.connect() as connection:
        assert await ensure_usage_partitions(connection, start=far, months=1) == [
            partition_name(far)
        ]
        await connection.rollback()
        assert partition_name(far) not in await _partitions(connection)


@pytest.mark.postgres
async def test_insert_far_ahead_fails_until_its_partition_exists(engine: AsyncEngine) -> None:
    event = _event(utcnow() + timedelta(days=5 * 366))

    async with engine.connect() as connection:
        with pytest.raises(IntegrityError) as failure:
            await connection.execute(sa.insert(UsageEvent), [event])
        assert is_missing_partition(failure.value)
        await connection.rollback()

        assert await ensure_partition_for(connection, event["ts"]) == [partition_name(event["ts"])]
        await connection.commit()
        await connection.execute(sa.insert(UsageEvent), [event])
        await connection.commit()

        assert await _home_of(connection, event["event_id"]) == partition_name(event["ts"])
        assert await ensure_partition_for(connection, event["ts"]) == []


@pytest.mark.postgres
async def test_other_integrity_errors_are_not_missing_partitions(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError) as bad_check:
            await connection.execute(
                sa.text(
                    "INSERT INTO usage_rollups (org_id, granularity, bucket, api_key_id, model) "
                    "VALUES (:id, 'week', now(), :id, 'm')"
                ),
                {"id": uuid.uuid4()},
            )
        await connection.rollback()
        event = _event(utcnow())
        await connection.execute(sa.insert(UsageEvent), [event])
        with pytest.raises(IntegrityError) as duplicate:
            await connection.execute(sa.insert(UsageEvent), [event])
        await connection.rollback()

    assert not is_missing_partition(bad_check.value)
    assert not is_missing_partition(duplicate.value)
    assert UsageRollup.__tablename__ in str(bad_check.value)


@pytest.mark.postgres
async def test_a_redelivered_event_is_stored_once(engine: AsyncEngine) -> None:
    event = _event(utcnow())
    statement = insert(UsageEvent).on_conflict_do_nothing(index_elements=["event_id", "ts"])

    async with engine.begin() as connection:
        first = await connection.execute(statement, [event])
        second = await connection.execute(statement, [{**event, "completion_tokens": 999}])
        count = await connection.scalar(sa.select(sa.func.count()).select_from(UsageEvent))
        tokens = await connection.scalar(sa.select(UsageEvent.completion_tokens))

    assert (first.rowcount, second.rowcount, count, tokens) == (1, 0, 1, 5)


async def test_partitions_are_a_no_op_on_sqlite(sqlite_url: str) -> None:
    await runner.upgrade(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        far = utcnow() + timedelta(days=5 * 366)
        assert await ensure_usage_partitions(engine, start=far, months=3) == []
        async with engine.begin() as connection:
            assert await ensure_partition_for(connection, far) == []
            await connection.execute(sa.insert(UsageEvent), [_event(far)])
    finally:
        await engine.dispose()
