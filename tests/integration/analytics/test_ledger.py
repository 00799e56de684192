"""`Ledger.store`: each event stored once, rollups equal to the sum of the stored events."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ias.analytics.ledger import Ledger
from ias.contracts.usage import UsageEvent
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import UsageRollup
from ias.models.partitions import add_months, month_start, partition_name
from tests.integration.analytics.support import (
    EventFactory,
    assert_rollups_match_raw,
    count_events,
)

Expected = dict[tuple[uuid.UUID, str, datetime, uuid.UUID, str], list[int]]


def _expected_rollups(events: list[UsageEvent]) -> Expected:
    """Rollups computed the slow, obvious way, independently of the code under test."""
    expected: Expected = defaultdict(lambda: [0] * 6)
    for event in events:
        ts = event.ts.astimezone(UTC)
        for granularity, bucket in (
            ("minute", datetime(ts.year, ts.month, ts.day, ts.hour, ts.minute, tzinfo=UTC)),
            ("hour", datetime(ts.year, ts.month, ts.day, ts.hour, tzinfo=UTC)),
            ("day", datetime(ts.year, ts.month, ts.day, tzinfo=UTC)),
        ):
            counters = expected[(event.org_id, granularity, bucket, event.api_key_id, event.model)]
            for index, value in enumerate(
                (
                    1,
                    event.prompt_tokens,
                    event.completion_tokens,
                    event.cached_tokens,
                    event.cost_micros,
                    int(event.http_status >= 400),
                )
            ):
                counters[index] += value
    return dict(expected)


async def _stored_rollups(db: Database) -> Expected:
    async with db.session() as session:
        rows = (await session.scalars(sa.select(UsageRollup))).all()
    return {
        (row.org_id, row.granularity.value, row.bucket, row.api_key_id, row.model): [
            row.requests,
            row.prompt_tokens,
            row.completion_tokens,
            row.cached_tokens,
            row.cost_micros,
            row.errors,
        ]
        for row in rows
    }


async def test_stores_a_batch_and_rolls_it_up_per_minute_hour_and_day(database: Database) -> None:
    events = EventFactory().events(2000)

    stored = await Ledger(database).store(events)

    assert stored == 2000
    assert await _stored_rollups(database) == _expected_rollups(events)
    await assert_rollups_match_raw(database.engine, 2000)


async def test_duplicates_in_one_batch_and_across_batches_count_once(database: Database) -> None:
    factory = EventFactory(seed=11)
    first = factory.events(300)
    second = factory.events(300)
    ledger = Ledger(database)

    assert await ledger.store(first + first[:50]) == 300
    assert await ledger.store(first[100:] + second + second[:10]) == 300
    assert await ledger.store(second + first) == 0

    assert await count_events(database.engine) == 600
    assert await _stored_rollups(database) == _expected_rollups(first + second)
    await assert_rollups_match_raw(database.engine, 600)


async def test_a_redelivered_event_in_another_zone_is_the_same_event(database: Database) -> None:
    event = EventFactory(seed=3).event()
    elsewhere = dataclasses.replace(event, ts=event.ts.astimezone(timezone(timedelta(hours=5))))
    ledger = Ledger(database)

    assert await ledger.store([event]) == 1
    assert await ledger.store([elsewhere, event]) == 0
    await assert_rollups_match_raw(database.engine, 1)


async def test_errors_are_counted_from_status_400_up(database: Database) -> None:
    factory = EventFactory(seed=5, orgs=1)
    at = utcnow().replace(second=30)
    statuses = [200, 399, 400, 429, 500, 503]
    events = [factory.event(http_status=status, ts=at) for status in statuses]

    await Ledger(database).store(events)

    rollups = await _stored_rollups(database)
    for granularity in ("minute", "hour", "day"):
        errors = sum(c[5] for k, c in rollups.items() if k[1] == granularity)
        requests = sum(c[0] for k, c in rollups.items() if k[1] == granularity)
        assert (requests, errors) == (6, 4)


async def test_the_user_of_a_key_is_carried_into_its_rollups(database: Database) -> None:
    factory = EventFactory(seed=9, orgs=1)
    user = uuid.uuid4()
    at = utcnow()
    await Ledger(database).store(
        [
            factory.event(user_id=None, ts=at, model="m"),
            factory.event(user_id=user, ts=at, model="m"),
        ]
    )
    async with database.session() as session:
        users = set((await session.scalars(sa.select(UsageRollup.user_id))).all())
    assert users == {user}


async def test_an_event_that_does_not_fit_is_refused_before_anything_is_written(
    database: Database,
) -> None:
    factory = EventFactory(seed=13)
    good = factory.events(5)
    bad = factory.event(model="m" * 300)

    with pytest.raises(ValueError, match="model"):
        await Ledger(database).store([*good, bad])

    assert await count_events(database.engine) == 0


async def test_an_empty_batch_stores_nothing(database: Database) -> None:
    assert await Ledger(database).store([]) == 0


@pytest.mark.postgres
async def test_partitions_are_created_for_months_that_have_none(pg_database: Database) -> None:
    far = add_months(month_start(utcnow()), 30)
    later = add_months(far, 7) + timedelta(days=3)
    factory = EventFactory(seed=17)
    events = [factory.event(ts=far + timedelta(hours=1)), factory.event(ts=later)]
    ledger = Ledger(pg_database)

    assert await ledger.store(events) == 2
    assert await ledger.store(events) == 0

    async with pg_database.engine.connect() as connection:
        homes = set(
            await connection.scalars(sa.text("SELECT tableoid::regclass::text FROM usage_events"))
        )
    assert homes == {partition_name(far), partition_name(later)}
    await assert_rollups_match_raw(pg_database.engine, 2)


@pytest.mark.postgres
async def test_a_partition_dropped_behind_its_back_is_created_again(pg_database: Database) -> None:
    month = add_months(month_start(utcnow()), 40)
    factory = EventFactory(seed=19)
    ledger = Ledger(pg_database)
    await ledger.store([factory.event(ts=month + timedelta(days=1))])
    async with pg_database.engine.begin() as connection:
        await connection.execute(sa.text(f"DROP TABLE {partition_name(month)}"))

    assert await ledger.store([factory.event(ts=month + timedelta(days=2))]) == 1
    assert await count_events(pg_database.engine) == 1
    # The rollups remember the dropped raw row too: they are never dropped.
    async with pg_database.session() as session:
        requests = await session.scalar(
            sa.select(sa.func.sum(UsageRollup.requests)).where(UsageRollup.granularity == "day")
        )
    assert requests == 2
