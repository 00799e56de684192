"""`/api/orgs/{org_id}/usage`, its CSV twin, and `/api/admin/usage`: HTTP only.

The rules live in `service`; the range rules in `window`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from ias.control.deps import CurrentOrg, SessionDep, SuperAdmin
from ias.control.usage import export, service
from ias.control.usage.rows import Counters, Dimension, Report, group_fields
from ias.control.usage.schemas import (
    GroupBy,
    PlatformGroupBy,
    UsageReportRead,
    UsageRow,
    UsageTotals,
)
from ias.models import Granularity

router = APIRouter(tags=["usage"])

Start = Annotated[
    datetime | None,
    Query(
        description="RFC 3339 with a zone; rounded down to a bucket edge. "
        "Default: `end` minus 24 hours (minute) or 7 days (hour, day)."
    ),
]
End = Annotated[
    datetime | None,
    Query(description="RFC 3339 with a zone, excluded; rounded up to a bucket edge. Default: now."),
]
Bucket = Annotated[
    Granularity,
    Query(
        description="Bucket size. A report spans at most 7 days by minute, 400 by hour, "
        "3,660 by day."
    ),
]


def org_query(
    start: Start = None,
    end: End = None,
    granularity: Bucket = Granularity.DAY,
    group_by: Annotated[GroupBy | None, Query(description="One series per value.")] = None,
) -> service.UsageQuery:
    dimension = Dimension(group_by) if group_by is not None else None
    return service.UsageQuery(start, end, granularity, dimension)


def platform_query(
    start: Start = None,
    end: End = None,
    granularity: Bucket = Granularity.DAY,
    group_by: Annotated[PlatformGroupBy | None, Query(description="One series per value.")] = None,
) -> service.UsageQuery:
    dimension = Dimension(group_by) if group_by is not None else None
    return service.UsageQuery(start, end, granularity, dimension)


OrgQuery = Annotated[service.UsageQuery, Depends(org_query)]
PlatformQuery = Annotated[service.UsageQuery, Depends(platform_query)]


def _counters(counters: Counters) -> dict[str, Any]:
    return {
        "requests": counters.requests,
        "prompt_tokens": counters.prompt_tokens,
        "completion_tokens": counters.completion_tokens,
        "total_tokens": counters.total_tokens,
        "cached_tokens": counters.cached_tokens,
        "cost_usd": float(counters.cost_usd),
        "cost_micros": counters.cost_micros,
        "errors": counters.errors,
    }


def report_read(report: Report) -> UsageReportRead:
    rows = [
        UsageRow(
            bucket=line.bucket,
            **group_fields(line, report.dimension),
            **_counters(line.counters),
        )
        for line in report.lines
    ]
    return UsageReportRead(
        data=rows,
        totals=UsageTotals(**_counters(report.totals)),
        start=report.start,
        end=report.end,
        granularity=report.granularity,
        group_by=report.dimension,
    )


class CsvResponse(Response):
    media_type = "text/csv"


@router.get(
    "/orgs/{org_id}/usage", response_model=UsageReportRead, response_model_exclude_unset=True
)
async def org_usage(access: CurrentOrg, session: SessionDep, query: OrgQuery) -> UsageReportRead:
    """The organization's usage per bucket, optionally grouped. Admins and owners see every
    key's usage; members and viewers see the usage of the keys they created."""
    return report_read(await service.org_report(session, access, query))


@router.get(
    "/orgs/{org_id}/usage.csv",
    response_class=CsvResponse,
    responses={200: {"description": "A header row, then one line per row of the JSON report."}},
)
async def org_usage_csv(access: CurrentOrg, session: SessionDep, query: OrgQuery) -> Response:
    """The same report as `/usage`, as a CSV download (no totals row)."""
    report = await service.org_report(session, access, query)
    name = export.filename(access.org.slug, report)
    return CsvResponse(
        export.render(report), headers={"content-disposition": f'attachment; filename="{name}"'}
    )


@router.get("/admin/usage", response_model=UsageReportRead, response_model_exclude_unset=True)
async def platform_usage(
    _: SuperAdmin,
    session: SessionDep,
    query: PlatformQuery,
    org_id: Annotated[uuid.UUID | None, Query(description="Only this org's usage.")] = None,
) -> UsageReportRead:
    """Usage across every organization on the platform (super admins); `group_by=org`
    gives one series per org."""
    return report_read(await service.platform_report(session, query, org_id=org_id))
