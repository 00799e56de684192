"""A usage report as a CSV download.

Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
or a carriage return) get a leading apostrophe: model and key names are chosen by users, and
opening an export must never execute what one of them typed.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime

from ias.control.usage.rows import GROUP_FIELDS, Counters, Report, group_fields

COUNTER_COLUMNS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "cost_usd",
    "cost_micros",
    "errors",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(value: str | uuid.UUID | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, uuid.UUID) else defused(value)


def _counter_cells(counters: Counters) -> list[str]:
    return [
        str(counters.requests),
        str(counters.prompt_tokens),
        str(counters.completion_tokens),
        str(counters.total_tokens),
        str(counters.cached_tokens),
        f"{counters.cost_usd:f}",
        str(counters.cost_micros),
        str(counters.errors),
    ]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


def filename(org_slug: str, report: Report) -> str:
    return f"usage-{org_slug}-{_stamp(report.start)}-{_stamp(report.end)}.csv"


def render(report: Report) -> str:
    """A header row, then one line per report line, in report order (no totals row)."""
    names = GROUP_FIELDS[report.dimension] if report.dimension is not None else ()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["bucket", *names, *COUNTER_COLUMNS])
    for line in report.lines:
        groups = group_fields(line, report.dimension)
        writer.writerow(
            [
                line.bucket.isoformat().replace("+00:00", "Z"),
                *(_cell(groups.get(name)) for name in names),
                *_counter_cells(line.counters),
            ]
        )
    return out.getvalue()
