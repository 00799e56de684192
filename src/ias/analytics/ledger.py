"""The usage ledger's writer: raw events stored exactly once, and the rollups that sum them.

`Ledger.store` guards the billing invariant "rows = distinct events, rollups = sum of rows":

* in one transaction it inserts the raw events with `ON CONFLICT (event_id, ts) DO NOTHING`,
  learns from `RETURNING` which rows are new, and adds only those to the rollups; a redelivered
  event, or one repeated inside the batch, therefore changes nothing;
* a batch either lands whole (raw rows and rollups together) or not at all, so a process killed
  mid-batch leaves nothing to repair — the redelivered batch is stored as if for the first time.

The consumer (`ias worker usage`) and the embedded mode both call it; it knows nothing of the
broker. On PostgreSQL the insert is one `INSERT ... SELECT FROM unnest(arrays)` statement per
batch, and the month partitions the batch needs are created first (remembered, so it costs one
catalogue query per month per process).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ias.analytics.metrics import record_stored_batch
from ias.analytics.rollups import RollupRow, aggregate
from ias.contracts.usage import UsageEvent
from ias.kit.db import Database
from ias.models import UsageEvent as UsageEventRow
from ias.models import UsageRollup
from ias.models.partitions import ensure_partition_for, is_missing_partition, month_start

EventKey = tuple[uuid.UUID, datetime]

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_INT_FIELDS = ("http_status", "prompt_tokens", "completion_tokens", "cached_tokens", "latency_ms")
_TEXT_LIMITS = {"model": 255, "endpoint": 64, "error_type": 64}

# Column name and PostgreSQL array type, in table order.
_EVENT_COLUMNS = (
    ("event_id", "uuid"),
    ("ts", "timestamptz"),
    ("org_id", "uuid"),
    ("user_id", "uuid"),
    ("api_key_id", "uuid"),
    ("model", "varchar"),
    ("backend_id", "uuid"),
    ("endpoint", "varchar"),
    ("http_status", "int4"),
    ("error_type", "varchar"),
    ("prompt_tokens", "int4"),
    ("completion_tokens", "int4"),
    ("cached_tokens", "int4"),
    ("cost_micros", "int8"),
    ("latency_ms", "int4"),
    ("ttft_ms", "int4"),
    ("stream", "bool"),
    ("partial", "bool"),
    ("trace_id", "varchar"),  # UsageEvent.trace_id, read from its traceparent
)
_ROLLUP_KEY = ("org_id", "granularity", "bucket", "api_key_id", "model")
_ROLLUP_COUNTERS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cost_micros",
    "errors",
)
_ROLLUP_COLUMNS = (
    ("org_id", "uuid"),
    ("granularity", "varchar"),
    ("bucket", "timestamptz"),
    ("api_key_id", "uuid"),
    ("model", "varchar"),
    ("user_id", "uuid"),
    *((name, "int8") for name in _ROLLUP_COUNTERS),
)


def _unnest_insert(table: str, columns: Sequence[tuple[str, str]]) -> str:
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in columns)
    return f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608 - constants only


_PG_INSERT_EVENTS = text(
    _unnest_insert("usage_events", _EVENT_COLUMNS)
    + " ON CONFLICT (event_id, ts) DO NOTHING RETURNING event_id, ts"
)
_PG_UPSERT_ROLLUPS = text(
    _unnest_insert("usage_rollups", _ROLLUP_COLUMNS)
    + f" ON CONFLICT ({', '.join(_ROLLUP_KEY)}) DO UPDATE SET "
    + "user_id = COALESCE(EXCLUDED.user_id, usage_rollups.user_id), "
    + ", ".join(f"{name} = usage_rollups.{name} + EXCLUDED.{name}" for name in _ROLLUP_COUNTERS)
)


def validate_event(event: UsageEvent) -> None:
    """Raise ValueError for an event the ledger's columns cannot hold as it is.

    Checked before any write, so that one bad event is refused on its own instead of failing
    the transaction of every good event stored beside it.
    """
    if event.ts.tzinfo is None:
        raise ValueError(f"event {event.event_id}: ts has no time zone")
    for name in (*_INT_FIELDS, "ttft_ms"):
        value = getattr(event, name)
        if value is None and name == "ttft_ms":
            continue
        if type(value) is not int or not 0 <= value <= _INT32_MAX:
            raise ValueError(f"event {event.event_id}: {name} is not a non-negative 32-bit integer")
    if type(event.cost_micros) is not int or not 0 <= event.cost_micros <= _INT64_MAX:
        raise ValueError(f"event {event.event_id}: cost_micros is not a non-negative integer")
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(event, name)
        if value is None and name == "error_type":
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"event {event.event_id}: {name} is not a string of <= {limit}")
    if type(event.stream) is not bool or type(event.partial) is not bool:
        raise ValueError(f"event {event.event_id}: stream and partial must be booleans")


def _distinct(events: Sequence[UsageEvent]) -> dict[EventKey, UsageEvent]:
    """The batch keyed by ledger key, first copy winning (copies of an event are identical).

    Aware datetimes hash and compare by the instant, so the same `ts` written in two time
    zones is one key, as it is in the database.
    """
    return {(event.event_id, event.ts): event for event in reversed(events)}


class Ledger:
    """Stores batches of usage events: raw rows once each, rollups for the new ones."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._postgres = db.dialect == "postgresql"
        self._months_ready: set[datetime] = set()

    async def store(self, events: Sequence[UsageEvent]) -> int:
        """Store a batch in one transaction; returns how many events were new.

        The events that were not new (already stored, or repeated in the batch) are counted
        as duplicates in the ledger's metrics.

        Raises ValueError (before writing anything) if an event does not fit the ledger, and
        the database's errors as they are: the caller decides what is worth retrying.
        """
        for event in events:
            validate_event(event)
        batch = _distinct(events)
        if not batch:
            return 0
        if self._postgres:
            await self._ensure_partitions(batch)
        try:
            new = await self._store_once(batch)
        except IntegrityError as exc:
            # A partition this process believed in is gone (dropped by retention, or by hand):
            # forget what it knew, create what is missing, and try once more.
            if not self._postgres or not is_missing_partition(exc):
                raise
            self._months_ready.clear()
            await self._ensure_partitions(batch)
            new = await self._store_once(batch)
        record_stored_batch(events, new)
        return new

    async def _store_once(self, batch: dict[EventKey, UsageEvent]) -> int:
        async with self._db.engine.begin() as connection:
            events = list(batch.values())
            if self._postgres:
                new_keys = await _insert_events_postgres(connection, events)
            else:
                new_keys = await _insert_events_sqlite(connection, events)
            new_events = [batch[key] for key in new_keys]
            rows = aggregate(new_events)
            if rows and self._postgres:
                await _upsert_rollups_postgres(connection, rows)
            elif rows:
                await _upsert_rollups_sqlite(connection, rows)
            return len(new_events)

    async def _ensure_partitions(self, batch: dict[EventKey, UsageEvent]) -> None:
        missing = {month_start(ts) for _, ts in batch} - self._months_ready
        if not missing:
            return
        # Its own short transaction: creating a partition locks the parent table.
        async with self._db.engine.begin() as connection:
            for month in sorted(missing):
                await ensure_partition_for(connection, month)
        self._months_ready |= missing


def _columns(items: Sequence[Any], names: Sequence[str]) -> dict[str, list[Any]]:
    """Rows turned into one list per column, the shape `unnest` takes."""
    if not items:
        return {name: [] for name in names}
    values = attrgetter(*names)  # several names: one tuple per item
    columns = zip(*map(values, items), strict=True)
    return {name: list(column) for name, column in zip(names, columns, strict=True)}


async def _insert_events_postgres(
    connection: AsyncConnection, events: Sequence[UsageEvent]
) -> list[EventKey]:
    arrays = _columns(events, [name for name, _ in _EVENT_COLUMNS])
    result = await connection.execute(_PG_INSERT_EVENTS, arrays)
    return [(event_id, ts) for event_id, ts in result]


async def _upsert_rollups_postgres(connection: AsyncConnection, rows: list[RollupRow]) -> None:
    arrays = _columns(rows, [name for name, _ in _ROLLUP_COLUMNS])
    arrays["granularity"] = [granularity.value for granularity in arrays["granularity"]]
    await connection.execute(_PG_UPSERT_ROLLUPS, arrays)


async def _insert_events_sqlite(
    connection: AsyncConnection, events: Sequence[UsageEvent]
) -> list[EventKey]:
    names = [name for name, _ in _EVENT_COLUMNS]
    statement = (
        sqlite.insert(UsageEventRow)
        .on_conflict_do_nothing(index_elements=["event_id", "ts"])
        .returning(UsageEventRow.event_id, UsageEventRow.ts)
    )
    result = await connection.execute(
        statement, [{name: getattr(event, name) for name in names} for event in events]
    )
    return [(event_id, ts) for event_id, ts in result]


async def _upsert_rollups_sqlite(connection: AsyncConnection, rows: list[RollupRow]) -> None:
    insert = sqlite.insert(UsageRollup)
    current = UsageRollup.__table__.c
    statement = insert.on_conflict_do_update(
        index_elements=list(_ROLLUP_KEY),
        set_={
            "user_id": func.coalesce(insert.excluded.user_id, current.user_id),
            **{name: current[name] + insert.excluded[name] for name in _ROLLUP_COUNTERS},
        },
    )
    names = [name for name, _ in _ROLLUP_COLUMNS]
    await connection.execute(
        statement, [{name: getattr(row, name) for name in names} for row in rows]
    )
