"""The time range a usage report covers, snapped to the edges of its buckets.

Buckets are UTC: a minute bucket starts at second 0, an hour bucket at minute 0, a day bucket
at 00:00 UTC. `start` is rounded down and `end` up to bucket edges, so a report always covers
whole buckets and `[start, end)` holds exactly the buckets it lists. The number of buckets is
capped per granularity, which bounds the work of one query whatever the caller asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ias.errors import InvalidRequest
from ias.models import Granularity

STEP = {
    Granularity.MINUTE: timedelta(minutes=1),
    Granularity.HOUR: timedelta(hours=1),
    Granularity.DAY: timedelta(days=1),
}

# The window a report covers when the caller gives no `start`.
DEFAULT_SPAN = {
    Granularity.MINUTE: timedelta(hours=24),
    Granularity.HOUR: timedelta(days=7),
    Granularity.DAY: timedelta(days=7),
}

# The widest window one report may cover (after rounding): 10,080, 9,600 and 3,660 buckets.
MAX_SPAN = {
    Granularity.MINUTE: timedelta(days=7),
    Granularity.HOUR: timedelta(days=400),
    Granularity.DAY: timedelta(days=3660),
}


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    granularity: Granularity


def floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if granularity is Granularity.MINUTE:
        return moment
    moment = moment.replace(minute=0)
    return moment if granularity is Granularity.HOUR else moment.replace(hour=0)


def ceil(moment: datetime, granularity: Granularity) -> datetime:
    edge = floor(moment, granularity)
    return edge if edge == moment else edge + STEP[granularity]


def _out_of_range(param: str) -> InvalidRequest:
    return InvalidRequest(
        f"{param} is too close to the limits of the calendar (years 1 to 9999).",
        param=param,
        code="invalid_value",
    )


def _to_utc(moment: datetime, param: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidRequest(
            f"{param} has no timezone; send an RFC 3339 timestamp such as "
            "2025-01-31T00:00:00Z or 2025-01-31T01:00:00+01:00.",
            param=param,
            code="invalid_value",
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise _out_of_range(param) from exc


def window(
    start: datetime | None, end: datetime | None, granularity: Granularity, now: datetime
) -> Window:
    """The caller's range with its defaults filled in, checked, and snapped to bucket edges.

    Defaults: `end` is now, `start` is `end` minus `DEFAULT_SPAN`. Refused (400): a timestamp
    without a zone, `start` not before `end`, and a range wider than `MAX_SPAN`.
    """
    upper = _to_utc(end, "end") if end is not None else now
    try:
        lower = _to_utc(start, "start") if start is not None else upper - DEFAULT_SPAN[granularity]
    except OverflowError as exc:
        raise _out_of_range("end") from exc
    if lower >= upper:
        raise InvalidRequest(
            f"start ({lower.isoformat()}) must be before end ({upper.isoformat()}).",
            param="start",
            code="invalid_range",
        )
    try:
        upper = ceil(upper, granularity)
    except OverflowError as exc:
        raise _out_of_range("end") from exc
    lower = floor(lower, granularity)
    if upper - lower > MAX_SPAN[granularity]:
        step, widest = STEP[granularity], MAX_SPAN[granularity]
        raise InvalidRequest(
            f"A report by {granularity} covers at most {widest // step:,} buckets "
            f"({widest.days:,} days); this range has {(upper - lower) // step:,}. "
            "Shorten it or choose a coarser granularity.",
            param="start",
            code="range_too_large",
        )
    return Window(lower, upper, granularity)
