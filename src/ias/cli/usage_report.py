"""`ias-admin usage show | export`: an organization's usage report, through the API, as the
signed-in user (see docs/usage-api.md). Registered on the `usage` group beside `reconcile`."""

from __future__ import annotations

import enum
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from ias.cli.output import fail, say
from ias.cli.refs import org_id
from ias.cli.render import Column, JsonOption, OrgArgument, UrlOption, api_command, client, emit
from ias.kit.clock import utcnow

_AGE = re.compile(r"(\d+)\s*([mhd])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class Bucket(enum.StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class GroupBy(enum.StrEnum):
    MODEL = "model"
    API_KEY = "api_key"
    USER = "user"
    ORG = "org"


_GROUP_COLUMNS: dict[str, list[Column]] = {
    GroupBy.MODEL: [("model", "model")],
    GroupBy.API_KEY: [("key", "api_key_name"), ("key id", "api_key_id")],
    GroupBy.USER: [("user id", "user_id")],
    GroupBy.ORG: [("org", "org_name"), ("org id", "org_id")],
}
_COUNTER_COLUMNS: list[Column] = [
    ("requests", "requests"),
    ("prompt", "prompt_tokens"),
    ("completion", "completion_tokens"),
    ("total", "total_tokens"),
    ("cached", "cached_tokens"),
    ("cost (USD)", lambda row: f"{row['cost_usd']:.6f}"),
    ("errors", "errors"),
]


def _report_time(text: str) -> datetime:
    value = text.strip()
    age = _AGE.fullmatch(value)
    if age:
        return utcnow() - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} is neither an RFC 3339 timestamp with a zone "
            "(e.g. 2025-05-01T00:00:00Z) nor an age such as 90m, 24h or 7d"
        )
    return moment


StartOption = Annotated[
    datetime | None,
    typer.Option(
        parser=_report_time,
        metavar="T",
        help="From (RFC 3339 or an age: 7d); default: 7 days before --end, 24 hours by minute.",
        show_default=False,
    ),
]
EndOption = Annotated[
    datetime | None,
    typer.Option(
        parser=_report_time,
        metavar="T",
        help="Until, excluded (RFC 3339 or an age); default: now.",
        show_default=False,
    ),
]
GranularityOption = Annotated[Bucket, typer.Option(help="Bucket size; buckets are UTC.")]
GroupByOption = Annotated[
    GroupBy | None,
    typer.Option(help="One series per value; `org` needs --all-orgs.", show_default=False),
]


def _query(
    start: datetime | None, end: datetime | None, granularity: Bucket, group_by: GroupBy | None
) -> dict[str, str]:
    params = {"granularity": granularity.value}
    if start is not None:
        params["start"] = start.isoformat()
    if end is not None:
        params["end"] = end.isoformat()
    if group_by is not None:
        params["group_by"] = group_by.value
    return params


@api_command
def show(
    org: Annotated[
        str | None,
        typer.Argument(
            metavar="ORG",
            help="The organization: its id, slug or name (optional with --all-orgs).",
            show_default=False,
        ),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    granularity: GranularityOption = Bucket.DAY,
    group_by: GroupByOption = None,
    all_orgs: Annotated[
        bool,
        typer.Option("--all-orgs", help="The whole platform (super admins); ORG filters it."),
    ] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show requests, tokens and cost per bucket, with a totals row.

    \b
    Example:
      ias-admin usage show acme --granularity hour --group-by model --start 24h
      ias-admin usage show --all-orgs --group-by org
    """
    if org is None and not all_orgs:
        raise typer.BadParameter(
            "name an ORG, or pass --all-orgs for the whole platform", param_hint="ORG"
        )
    if group_by is GroupBy.ORG and not all_orgs:
        raise typer.BadParameter("grouping by org needs --all-orgs", param_hint="'--group-by'")
    params = _query(start, end, granularity, group_by)
    with client(url) as api:
        if all_orgs:
            path = "/api/admin/usage"
            if org is not None:
                params["org_id"] = org_id(api, org)
        else:
            path = f"/api/orgs/{org_id(api, str(org))}/usage"
        report: dict[str, Any] = api.get(path, **params)
    if as_json:
        emit(report, as_json=True)
        return
    _print_usage(report, org or "every organization")


def _print_usage(report: dict[str, Any], scope: str) -> None:
    granularity = report["granularity"]
    say(f"usage of {scope} by {granularity}, {report['start']} to {report['end']} (UTC buckets)")
    groups = _GROUP_COLUMNS.get(report.get("group_by") or "", [])
    bucket: Column = ("bucket", lambda row: _bucket(row.get("bucket"), granularity))
    rows = [*report["data"], report["totals"]]
    emit(rows, as_json=False, columns=[bucket, *groups, *_COUNTER_COLUMNS])


def _bucket(value: str | None, granularity: str) -> str:
    if value is None:  # the totals row
        return "total"
    moment = datetime.fromisoformat(value)
    return moment.strftime("%Y-%m-%d" if granularity == Bucket.DAY else "%Y-%m-%d %H:%M")


@api_command
def export(
    org: OrgArgument,
    csv: Annotated[
        bool, typer.Option("--csv", help="CSV with a header row (the default).")
    ] = False,
    start: StartOption = None,
    end: EndOption = None,
    granularity: GranularityOption = Bucket.DAY,
    group_by: GroupByOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            writable=True,
            help="Write to this file instead of standard output.",
            show_default=False,
        ),
    ] = None,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The JSON report instead.")] = False,
) -> None:
    """Export an organization's usage report as CSV (or JSON), one line per bucket.

    \b
    Example:
      ias-admin usage export acme --csv --start 2025-01-01T00:00:00Z --group-by api_key
      ias-admin usage export acme --csv --granularity hour --output acme-usage.csv
    """
    if csv and as_json:
        raise typer.BadParameter("choose one of --csv and --json", param_hint="'--json'")
    if group_by is GroupBy.ORG:
        raise typer.BadParameter("an org's report cannot group by org", param_hint="'--group-by'")
    params = _query(start, end, granularity, group_by)
    with client(url) as api:
        base = f"/api/orgs/{org_id(api, org)}/usage"
        response = api.request("GET", base + ("" if as_json else ".csv"), params=params)
    content = response.content
    if as_json:
        content = orjson.dumps(response.json(), option=orjson.OPT_INDENT_2) + b"\n"
    if output is None:
        sys.stdout.write(content.decode())
        sys.stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    lines = content.count(b"\n")
    say(f"wrote {output} ({lines} lines)" if not as_json else f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("export")(export)
