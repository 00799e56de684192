"""Ledger upkeep: partitions made ahead, raw events past retention dropped, rollups kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from ias.analytics.ledger import Ledger
from ias.analytics.maintenance import LedgerMaintenance
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import UsageRollup
from ias.models.partitions import add_months, month_start, partition_name
from ias.settings import AnalyticsSettings
from tests.integration.analytics.support import EventFactory, count_events


async def _partitions(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(
            await connection.scalars(
                sa.text(
                    "SELECT child.relname FROM pg_inherits "
                    "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
                    "WHERE pg_inherits.inhparent = 'usage_events'::regclass"
                )
            )
        )


async def _day_requests(db: Database) -> int:
    async with db.session() as session:
        total = await session.scalar(
            sa.select(sa.func.sum(UsageRollup.requests)).where(UsageRollup.granularity == "day")
        )
    return int(total or 0)


@pytest.mark.postgres
async def test_partitions_are_made_ahead_of_time(pg_database: Database) -> None:
    later = add_months(month_start(utcnow()), 14)  # as if the worker ran 14 months from now
    settings = AnalyticsSettings(partitions_ahead_months=5, retention_days=0)

    report = await LedgerMaintenance(pg_database, settings).run_once(later)
    again = await LedgerMaintenance(pg_database, settings).run_once(later)

    expected = {partition_name(add_months(later, offset)) for offset in range(-1, 6)}
    assert expected <= await _partitions(pg_database)
    assert set(report.created) == expected
    assert again.created == []


@pytest.mark.postgres
async def test_partitions_past_retention_are_dropped_and_rollups_remain(
    pg_database: Database,
) -> None:
    now = utcnow()
    old_month = add_months(month_start(now), -20)
    factory = EventFactory(seed=37)
    old = [factory.event(ts=old_month + timedelta(days=3, hours=n)) for n in range(10)]
    kept_month = add_months(month_start(now), -12)  # ended less than 400 days ago
    recent = [*factory.events(4), factory.event(ts=kept_month + timedelta(days=1))]
    await Ledger(pg_database).store(old + recent)
    assert partition_name(old_month) in await _partitions(pg_database)

    report = await LedgerMaintenance(pg_database, AnalyticsSettings(retention_days=400)).run_once(
        now
    )

    assert partition_name(old_month) in report.dropped
    partitions = await _partitions(pg_database)
    assert partition_name(old_month) not in partitions
    assert partition_name(now) in partitions
    assert partition_name(kept_month) in partitions
    assert await count_events(pg_database.engine) == 5
    assert await _day_requests(pg_database) == 15


@pytest.mark.postgres
async def test_retention_zero_keeps_raw_events_forever(pg_database: Database) -> None:
    old_month = add_months(month_start(utcnow()), -60)
    await Ledger(pg_database).store([EventFactory(seed=41).event(ts=old_month)])

    report = await LedgerMaintenance(pg_database, AnalyticsSettings(retention_days=0)).run_once()

    assert report.dropped == []
    assert await count_events(pg_database.engine) == 1


async def test_sqlite_deletes_raw_events_past_retention_and_keeps_rollups(
    sqlite_url: str,
) -> None:
    from ias.migrations import runner

    await runner.upgrade(sqlite_url)
    db = Database.from_url(sqlite_url)
    try:
        now = utcnow()
        factory = EventFactory(seed=43)
        old = [factory.event(ts=now - timedelta(days=45, minutes=n)) for n in range(4)]
        await Ledger(db).store(old + factory.events(6))

        report = await LedgerMaintenance(db, AnalyticsSettings(retention_days=31)).run_once(now)

        assert report.deleted_rows == 4
        assert await count_events(db.engine) == 6
        assert await _day_requests(db) == 10
    finally:
        await db.dispose()


@pytest.mark.parametrize("days", [1, 30, -1])
def test_retention_shorter_than_a_month_is_refused(days: int) -> None:
    with pytest.raises(ValidationError):
        AnalyticsSettings(retention_days=days)
