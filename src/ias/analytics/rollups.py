"""Pre-aggregation of usage events into rollup rows: one row per key, however many events.

Each stored event counts once in each granularity (minute, hour and day, in UTC) under
(org, bucket, api key, model). Summing here rather than in SQL keeps the upsert to one row per
key, which PostgreSQL requires (`ON CONFLICT DO UPDATE` may not touch a row twice in one
statement) and which makes the write cheap when many events share a key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ias.contracts.usage import UsageEvent
from ias.models import Granularity

ERROR_STATUS = 400

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
# Minutes per bucket. UTC has no leap seconds in Python's arithmetic, so whole hours and days
# since the epoch start exactly on the hour and at midnight UTC.
_WIDTH = {Granularity.MINUTE: 1, Granularity.HOUR: 60, Granularity.DAY: 1440}

# (org_id.int, api_key_id.int, model, bucket start in minutes since the epoch): UUIDs hash in
# Python code and their integers in C, which matters at thousands of events per batch.
_Key = tuple[int, int, str, int]


@dataclass(slots=True)
class RollupRow:
    """What a batch adds to one rollup: counters to add, and the key's user."""

    org_id: uuid.UUID
    granularity: Granularity
    bucket: datetime
    api_key_id: uuid.UUID
    model: str
    user_id: uuid.UUID | None = None
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_micros: int = 0
    errors: int = 0


def bucket_start(ts: datetime, granularity: Granularity) -> datetime:
    """The start of the UTC minute, hour or day that contains `ts`."""
    width = _WIDTH[granularity]
    return _EPOCH + _MINUTE * ((ts - _EPOCH) // _MINUTE // width * width)


def aggregate(events: Iterable[UsageEvent]) -> list[RollupRow]:
    """The rollup rows the events add up to, sorted by key.

    The order is fixed so that concurrent writers lock rollup rows in the same order and cannot
    deadlock each other. Callers pass each event once: duplicates would be counted twice.
    """
    minutes: dict[_Key, list[int]] = {}
    ids: dict[int, uuid.UUID] = {}
    users: dict[tuple[int, int, str], uuid.UUID] = {}
    for event in events:
        org, key = event.org_id.int, event.api_key_id.int
        bucket = (org, key, event.model, (event.ts - _EPOCH) // _MINUTE)
        sums = minutes.get(bucket)
        if sums is None:
            sums = minutes[bucket] = [0, 0, 0, 0, 0, 0]
            ids[org], ids[key] = event.org_id, event.api_key_id
        sums[0] += 1
        sums[1] += event.prompt_tokens
        sums[2] += event.completion_tokens
        sums[3] += event.cached_tokens
        sums[4] += event.cost_micros
        if event.http_status >= ERROR_STATUS:
            sums[5] += 1
        if event.user_id is not None:
            users[bucket[:3]] = event.user_id
    rows: list[tuple[_Key, Granularity, list[int]]] = []
    for granularity, width in _WIDTH.items():
        coarse = minutes if width == 1 else _coarsen(minutes, width)
        rows.extend((key, granularity, sums) for key, sums in coarse.items())
    rows.sort(key=lambda row: (row[0][0], row[1], row[0][3], row[0][1], row[0][2]))
    return [
        RollupRow(
            ids[org],
            granularity,
            _EPOCH + _MINUTE * start,
            ids[key],
            model,
            users.get((org, key, model)),
            *sums,
        )
        for (org, key, model, start), granularity, sums in rows
    ]


def _coarsen(minutes: dict[_Key, list[int]], width: int) -> dict[_Key, list[int]]:
    coarse: dict[_Key, list[int]] = {}
    for (org, key, model, minute), sums in minutes.items():
        bucket = (org, key, model, minute // width * width)
        total = coarse.get(bucket)
        if total is None:
            coarse[bucket] = list(sums)
        else:
            for index, value in enumerate(sums):
                total[index] += value
    return coarse
