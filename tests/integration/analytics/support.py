"""Usage events to store, and the checks every ledger test makes on what was stored."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ias.contracts.usage import UsageEvent
from ias.kit.clock import utcnow
from ias.models import UsageEvent as UsageEventRow
from ias.models import UsageRollup

COUNTERS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cost_micros")


class EventFactory:
    """Events spread over a few orgs, keys, models and minutes, reproducibly."""

    def __init__(self, seed: int = 7, *, orgs: int = 3, start: datetime | None = None) -> None:
        self._random = random.Random(seed)
        self.start = start or utcnow() - timedelta(hours=2)
        self.orgs = [uuid.UUID(int=self._random.getrandbits(128)) for _ in range(orgs)]
        self.keys = {
            org: [(uuid.UUID(int=self._random.getrandbits(128)), uuid.uuid4()) for _ in range(2)]
            for org in self.orgs
        }

    def event(self, **overrides: Any) -> UsageEvent:
        pick = self._random
        org = pick.choice(self.orgs)
        key, user = pick.choice(self.keys[org])
        prompt = pick.randint(0, 500)
        fields: dict[str, Any] = {
            "event_id": uuid.UUID(int=pick.getrandbits(128)),
            "ts": self.start + timedelta(seconds=pick.uniform(0, 7200)),
            "org_id": org,
            "user_id": user,
            "api_key_id": key,
            "model": pick.choice(["demo-chat", "demo-embed"]),
            "backend_id": None,
            "endpoint": "chat.completions",
            "http_status": pick.choice([200, 200, 200, 429, 502]),
            "error_type": None,
            "prompt_tokens": prompt,
            "completion_tokens": pick.randint(0, 300),
            "cached_tokens": pick.randint(0, prompt),
            "cost_micros": pick.randint(0, 10_000),
            "latency_ms": pick.randint(1, 2000),
            "ttft_ms": pick.randint(1, 200),
            "stream": pick.random() < 0.5,
            "partial": False,
        }
        fields.update(overrides)
        return UsageEvent(**fields)

    def events(self, count: int) -> list[UsageEvent]:
        return [self.event() for _ in range(count)]


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(sa.select(sa.func.count()).select_from(UsageEventRow))
    return int(count or 0)


async def assert_rollups_match_raw(engine: AsyncEngine, expected_events: int) -> None:
    """Rows = the distinct events expected; each granularity's rollups sum to the raw rows."""
    raw = UsageEventRow.__table__
    rollups = UsageRollup.__table__
    totals = [
        sa.func.count(),
        *(sa.func.coalesce(sa.func.sum(raw.c[name]), 0) for name in COUNTERS),
        sa.func.coalesce(sa.func.sum(sa.case((raw.c.http_status >= 400, 1), else_=0)), 0),
    ]
    summed = [
        sa.func.coalesce(sa.func.sum(rollups.c[name]), 0)
        for name in ("requests", *COUNTERS, "errors")
    ]
    async with engine.connect() as connection:
        raw_totals = tuple((await connection.execute(sa.select(*totals))).one())
        assert raw_totals[0] == expected_events
        for granularity in ("minute", "hour", "day"):
            rolled = tuple(
                (
                    await connection.execute(
                        sa.select(*summed).where(rollups.c.granularity == granularity)
                    )
                ).one()
            )
            assert rolled == raw_totals, granularity


def distinct_ids(events: Sequence[UsageEvent]) -> int:
    return len({event.event_id for event in events})
