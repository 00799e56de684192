"""`ias-admin audit list`: who changed what, newest first — one organization's log (its owners
and admins) or the whole platform's (super admins)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from ias.cli.api_client import ApiClient
from ias.cli.output import say
from ias.cli.refs import org_id
from ias.cli.render import Column, JsonOption, UrlOption, api_command, client, emit

app = typer.Typer(
    help="""Read the audit log.

\b
Example:
  ias-admin audit list acme --limit 20
  ias-admin audit list --all --action user.disabled
""",
    no_args_is_help=True,
)

PAGE_SIZE = 200  # the most the API returns at once


def _entries(api: ApiClient, path: str, limit: int, **params: Any) -> dict[str, Any]:
    """Up to `limit` entries, following `next_cursor`; `next_cursor` is kept for the rest."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(path, cursor=cursor, limit=min(PAGE_SIZE, limit - len(entries)), **params)
        entries.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor or len(entries) >= limit:
            return {"data": entries[:limit], "next_cursor": cursor}


def _details(entry: dict[str, Any]) -> str:
    details = entry.get("details") or {}
    return " ".join(
        f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in details.items()
    )


def _at(entry: dict[str, Any]) -> str:
    return str(datetime.fromisoformat(entry["at"]).strftime("%Y-%m-%d %H:%M:%S"))


def _target(entry: dict[str, Any]) -> str | None:
    if entry.get("target_type") is None:
        return None
    return f"{entry['target_type']}:{entry.get('target_id') or '-'}"


@app.command("list")
@api_command
def list_entries(
    org: Annotated[
        str | None,
        typer.Argument(
            metavar="ORG",
            help="The organization: its id, slug or name (optional with --all).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many entries.")] = 50,
    all_: Annotated[
        bool,
        typer.Option("--all", help="The whole platform's log (super admins); ORG filters it."),
    ] = False,
    action: Annotated[
        str | None,
        typer.Option(help="Only this action, e.g. user.disabled (with --all).", show_default=False),
    ] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List audit entries, newest first.

    \b
    Example:
      ias-admin audit list acme --limit 20
      ias-admin audit list --all --limit 500 --json
    """
    if org is None and not all_:
        raise typer.BadParameter(
            "name an ORG, or pass --all for the whole platform", param_hint="ORG"
        )
    if action is not None and not all_:
        raise typer.BadParameter("filtering by action needs --all", param_hint="'--action'")
    with client(url) as api:
        if all_:
            scope = org_id(api, org) if org is not None else None
            log = _entries(api, "/api/admin/audit", limit, org_id=scope, action=action)
        else:
            log = _entries(api, f"/api/orgs/{org_id(api, str(org))}/audit", limit)
    columns: list[Column] = [
        ("at (UTC)", _at),
        ("actor", lambda entry: entry.get("actor_email") or entry.get("actor_user_id")),
        ("action", "action"),
        ("target", _target),
        *([("org id", "org_id")] if all_ else []),
        ("ip", "ip"),
        ("details", _details),
    ]
    emit(log if as_json else log["data"], as_json=as_json, columns=columns)
    if not as_json and log["next_cursor"]:
        say(f"showing the newest {len(log['data'])}; pass a larger --limit to see more")
