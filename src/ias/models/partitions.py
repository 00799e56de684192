"""Monthly range partitions of `usage_events` on PostgreSQL (SQLite keeps one plain table).

Every month of events needs its partition before the first event of that month arrives; an
insert without one fails, and a ledger insert that fails is a request that cannot be billed.
The analytics process keeps partitions created ahead of time with `ensure_usage_partitions`,
and the consumer repairs a miss with `ensure_partition_for` (an event with a clock far ahead,
or a process that was down across a month boundary), then retries the batch.

There is deliberately no DEFAULT partition. Rows that land in a default partition block the
later creation of the partition for their range (PostgreSQL refuses while the default holds
rows that the new partition would own), so one stray event would force a manual data move
before next month's partition can exist. A loud, retryable insert failure is the better failure.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PARENT_TABLE = "usage_events"
_PARTITION_NAME = re.compile(rf"^{PARENT_TABLE}_p\d{{6}}$")
# Serialises partition creation across processes: two concurrent CREATE TABLE ... IF NOT EXISTS
# of the same partition can still collide in the catalogue.
_ADVISORY_LOCK_KEY = 0x1A5_0E7E
_CHECK_VIOLATION = "23514"


def month_start(ts: datetime) -> datetime:
    """Midnight UTC on the first day of the UTC month containing `ts`."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime given where a UTC timestamp is required")
    return ts.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return month.replace(year=index // 12, month=index % 12 + 1)


def partition_name(month: date) -> str:
    """`usage_events_pYYYYMM` for the UTC month containing `month` (a date or datetime)."""
    if isinstance(month, datetime):
        month = month_start(month)
    return f"{PARENT_TABLE}_p{month.year:04d}{month.month:02d}"


def is_partition_name(name: str) -> bool:
    return _PARTITION_NAME.match(name) is not None


def partition_ddl(month: datetime) -> str:
    first = month_start(month)
    bound = "'{:%Y-%m-%d} 00:00:00+00'"
    # DDL takes no bind parameters; every piece here is derived from a datetime, never from input.
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(first)} PARTITION OF {PARENT_TABLE} "
        f"FOR VALUES FROM ({bound.format(first)}) TO ({bound.format(add_months(first, 1))})"
    )


async def ensure_usage_partitions(
    target: AsyncConnection | AsyncEngine, *, start: datetime, months: int
) -> list[str]:
    """Create the missing partitions for `months` months from the month of `start`.

    Returns the names it created (none when all exist, and always none on SQLite). Given an
    engine it commits on its own; given a connection it works in that connection's transaction
    and the caller commits. Creating a partition locks the parent table, so keep that
    transaction short.
    """
    if months < 0:
        raise ValueError("months must not be negative")
    if isinstance(target, AsyncEngine):
        async with target.begin() as connection:
            return await _create_missing(connection, month_start(start), months)
    return await _create_missing(target, month_start(start), months)


async def ensure_partition_for(connection: AsyncConnection, ts: datetime) -> list[str]:
    """Make sure the partition that owns `ts` exists (see `ensure_usage_partitions`)."""
    return await ensure_usage_partitions(connection, start=ts, months=1)


def is_missing_partition(error: BaseException) -> bool:
    """Whether an error raised by an insert into `usage_events` means "no partition for the row".

    PostgreSQL reports it as a check violation that names no constraint (matching on the message
    would break under a translated `lc_messages`).
    """
    driver_error = getattr(error, "orig", None) or error
    if getattr(driver_error, "sqlstate", None) != _CHECK_VIOLATION:
        return False
    server_error = driver_error.__cause__ or driver_error
    return getattr(server_error, "constraint_name", None) is None


async def drop_usage_partitions_before(connection: AsyncConnection, cutoff: datetime) -> list[str]:
    """Drop the monthly partitions whose whole month ends at or before `cutoff`.

    Returns the names dropped (always none on SQLite). Works in the caller's transaction; the
    drop waits at most a few seconds for the parent table's lock, so a long report reading old
    events delays retention to the next run instead of stalling every insert behind it.
    """
    if connection.dialect.name != "postgresql":
        return []
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
    )
    await connection.execute(text("SET LOCAL lock_timeout = '5s'"))
    dropped = []
    for name in sorted(await _existing(connection)):
        if not is_partition_name(name):
            continue
        month = datetime(int(name[-6:-2]), int(name[-2:]), 1, tzinfo=UTC)
        if add_months(month, 1) <= cutoff:
            # The name matched the partition pattern: it is safe to splice into DDL.
            await connection.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped


async def _existing(connection: AsyncConnection) -> set[str]:
    return set(
        await connection.scalars(
            text(
                "SELECT child.relname FROM pg_inherits "
                "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
                "WHERE pg_inherits.inhparent = CAST(:parent AS regclass)"
            ),
            {"parent": PARENT_TABLE},
        )
    )


async def _create_missing(connection: AsyncConnection, first: datetime, months: int) -> list[str]:
    if connection.dialect.name != "postgresql" or months == 0:
        return []
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
    )
    existing = await _existing(connection)
    created = []
    for offset in range(months):
        month = add_months(first, offset)
        name = partition_name(month)
        if name not in existing:
            await connection.execute(text(partition_ddl(month)))
            created.append(name)
    return created
