"""SQL for usage reports. Reads the rollups only, never the raw `usage_events`.

One query per report: rollups of one granularity in `[start, end)`, summed per bucket (and
group), in report order. The join that names keys or orgs is an outer join: usage of a key or
org deleted since still counts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ias.control.usage.rows import Counters, Dimension, UsageLine
from ias.control.usage.window import Window
from ias.models import ApiKey, Org, UsageRollup

_COUNTERS = (
    UsageRollup.requests,
    UsageRollup.prompt_tokens,
    UsageRollup.completion_tokens,
    UsageRollup.cached_tokens,
    UsageRollup.cost_micros,
    UsageRollup.errors,
)

_GROUP_COLUMNS: dict[Dimension, list[InstrumentedAttribute[Any]]] = {
    Dimension.MODEL: [UsageRollup.model],
    Dimension.API_KEY: [UsageRollup.api_key_id, ApiKey.name],
    Dimension.USER: [UsageRollup.user_id],
    Dimension.ORG: [UsageRollup.org_id, Org.name],
}


async def lines(
    session: AsyncSession,
    window: Window,
    *,
    dimension: Dimension | None,
    org_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    limit: int,
) -> list[UsageLine]:
    """At most `limit` lines, ordered by bucket then group; `user_id` keeps one user's keys."""
    groups = _GROUP_COLUMNS[dimension] if dimension is not None else []
    sums = [func.sum(column) for column in _COUNTERS]
    query = (
        select(UsageRollup.bucket, *sums, *groups)
        .where(
            UsageRollup.granularity == window.granularity,
            UsageRollup.bucket >= window.start,
            UsageRollup.bucket < window.end,
        )
        .group_by(UsageRollup.bucket, *groups)
        .order_by(UsageRollup.bucket, *(column.asc().nulls_last() for column in groups[:1]))
        .limit(limit)
    )
    if dimension is Dimension.API_KEY:
        query = query.outerjoin(ApiKey, ApiKey.id == UsageRollup.api_key_id)
    elif dimension is Dimension.ORG:
        query = query.outerjoin(Org, Org.id == UsageRollup.org_id)
    if org_id is not None:
        query = query.where(UsageRollup.org_id == org_id)
    if user_id is not None:
        query = query.where(UsageRollup.user_id == user_id)
    result = await session.execute(query)
    return [_line(tuple(row), groups=len(groups)) for row in result]


def _line(row: tuple[Any, ...], *, groups: int) -> UsageLine:
    width = 1 + len(_COUNTERS)
    # PostgreSQL sums bigints as numeric; int() keeps them exact.
    return UsageLine(
        bucket=row[0],
        counters=Counters(*(int(value) for value in row[1:width])),
        group=row[width] if groups else None,
        label=row[width + 1] if groups > 1 else None,
    )
