"""Usage reports, read from the ledger's rollups.

Who sees what is decided by the permission matrix: a caller allowed `USAGE_READ_ALL` (admins,
owners, super admins) sees every key of the org; anyone else allowed `USAGE_READ_OWN` sees only
the usage of keys they created (a rollup's `user_id` is its key's creator). The platform report
is for super admins, who are checked by the endpoint.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.permissions import Action
from ias.control.usage import repository
from ias.control.usage.rows import Dimension, Report
from ias.control.usage.window import window
from ias.errors import InvalidRequest
from ias.kit.clock import utcnow
from ias.models import Granularity

if TYPE_CHECKING:
    from ias.control.scoping import OrgAccess

# One report answers in one response; past this many lines the caller must narrow it.
MAX_LINES = 50_000


@dataclass(frozen=True, slots=True)
class UsageQuery:
    start: datetime | None
    end: datetime | None
    granularity: Granularity
    dimension: Dimension | None


async def _report(
    session: AsyncSession,
    query: UsageQuery,
    *,
    org_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> Report:
    span = window(query.start, query.end, query.granularity, utcnow())
    lines = await repository.lines(
        session,
        span,
        dimension=query.dimension,
        org_id=org_id,
        user_id=user_id,
        limit=MAX_LINES + 1,
    )
    if len(lines) > MAX_LINES:
        raise InvalidRequest(
            f"This report would have more than {MAX_LINES:,} lines; shorten the range, choose "
            "a coarser granularity or group by something with fewer values.",
            code="too_many_lines",
        )
    return Report(span.start, span.end, span.granularity, query.dimension, lines)


async def org_report(session: AsyncSession, access: OrgAccess, query: UsageQuery) -> Report:
    """The org's usage as `access` may see it: all of it, or that of the caller's own keys."""
    if access.can(Action.USAGE_READ_ALL):
        return await _report(session, query, org_id=access.org.id, user_id=None)
    access.require(Action.USAGE_READ_OWN)
    return await _report(session, query, org_id=access.org.id, user_id=access.user_id)


async def platform_report(
    session: AsyncSession, query: UsageQuery, *, org_id: uuid.UUID | None
) -> Report:
    """Usage across every org (or only `org_id`'s), for super admins."""
    return await _report(session, query, org_id=org_id, user_id=None)
