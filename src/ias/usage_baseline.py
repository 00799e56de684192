"""This month's consumption per org, read from the usage ledger's daily rollups.

The limiter's monthly counters live in Redis; when Redis has lost one (a restart without
persistence, an eviction), it is seeded from here instead of starting again from zero, so a
quota or budget cannot be spent twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from ias.kit.db import Database
from ias.models import Granularity, UsageRollup

ORG_SCOPE_PREFIX = "org:"


class LedgerBaseline:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(self, scope: str, month: str) -> tuple[int, int]:
        """(tokens, micro-dollars) used by the org in `scope` during `month` ("YYYYMM")."""
        if not scope.startswith(ORG_SCOPE_PREFIX) or scope.count(":") != 1:
            return 0, 0
        org_id = uuid.UUID(scope.removeprefix(ORG_SCOPE_PREFIX))
        start = datetime(int(month[:4]), int(month[4:]), 1, tzinfo=UTC)
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        query = select(
            func.coalesce(func.sum(UsageRollup.prompt_tokens + UsageRollup.completion_tokens), 0),
            func.coalesce(func.sum(UsageRollup.cost_micros), 0),
        ).where(
            UsageRollup.org_id == org_id,
            UsageRollup.granularity == Granularity.DAY,
            UsageRollup.bucket >= start,
            UsageRollup.bucket < end,
        )
        async with self._db.session() as session:
            tokens, cost = (await session.execute(query)).one()
        return int(tokens), int(cost)
