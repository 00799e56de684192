"""`ias-admin org …`: create, list, inspect and delete organizations, and set their limits.

Also home to what the other API groups share for listings: paging through the platform-wide
admin lists, and timestamps cut to the minute for tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from ias.cli import refs
from ias.cli.api_client import ApiClient
from ias.cli.render import (
    JsonOption,
    OrgArgument,
    UrlOption,
    YesOption,
    api_command,
    client,
    confirm,
    done,
    emit,
)

HELP = """Manage organizations (tenants) and their limits.

\b
Example:
  ias-admin org create "Acme Research"
  ias-admin org list --all --search acme
  ias-admin org set-limits acme-research --rpm 600 --clear-tpm
"""

app = typer.Typer(help=HELP, no_args_is_help=True)

PAGE_SIZE = 200

LimitOption = Annotated[
    int,
    typer.Option(min=1, max=10_000, help="Show at most this many rows (--all only)."),
]

# Each limit: its API field, what it means, and the consumption counter it is checked against.
LIMITS = (
    ("rpm", "requests per minute", "requests_this_minute"),
    ("tpm", "tokens per minute", "tokens_this_minute"),
    ("concurrency", "requests in flight", "requests_in_flight"),
    ("monthly_token_quota", "tokens per month", "tokens_this_month"),
    ("monthly_budget_usd", "budget per month (USD)", "spend_this_month_usd"),
)


def minute(key: str) -> Callable[[dict[str, Any]], str | None]:
    """A table column showing the timestamp `row[key]` to the minute, in UTC as sent."""

    def cell(row: dict[str, Any]) -> str | None:
        value = row.get(key)
        return None if value is None else str(value)[:16].replace("T", " ")

    return cell


def page_through(
    api: ApiClient, path: str, *, limit: int, **params: Any
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` rows of a paged list (`{data, next_cursor}`), and whether more remain."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(path, cursor=cursor, limit=min(PAGE_SIZE, limit), **params)
        rows.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor or len(rows) >= limit:
            return rows[:limit], bool(cursor) or len(rows) > limit


def note_more(more: bool, shown: int) -> None:
    if more:
        typer.echo(f"showing the first {shown}; pass --limit to see more", err=True)


@app.command("create")
@api_command
def create(
    name: Annotated[str, typer.Argument(help="Shown to members; need not be unique.")],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an organization; you become its owner. The server derives its slug from the name.

    Example: ias-admin org create "Acme Research"
    """
    with client(url) as api:
        org = api.post("/api/orgs", {"name": name})
    message = f"created organization {org['name']} (slug {org['slug']}, id {org['id']})"
    done(message, org, as_json=as_json)


@app.command("list")
@api_command
def list_orgs(
    every: Annotated[
        bool, typer.Option("--all", help="Every organization on the platform (super admin).")
    ] = False,
    search: Annotated[
        str | None, typer.Option(help="Only names or slugs containing this text.")
    ] = None,
    limit: LimitOption = 200,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List your organizations and your role in each; --all lists every one on the platform.

    \b
    Example:
      ias-admin org list
      ias-admin org list --all --search acme --json
    """
    with client(url) as api:
        if every:
            rows, more = page_through(api, "/api/admin/orgs", limit=limit, q=search)
        else:
            rows, more = _mine(api.get("/api/orgs"), search), False
    columns = [("id", "id"), ("slug", "slug"), ("name", "name")]
    extra = [("members", "members")] if every else [("role", "role")]
    emit(rows, as_json=as_json, columns=[*columns, *extra, ("created", minute("created_at"))])
    note_more(more, len(rows))


def _mine(orgs: list[dict[str, Any]], search: str | None) -> list[dict[str, Any]]:
    if not search:
        return orgs
    needle = search.casefold()
    return [org for org in orgs if needle in f"{org['name']}\n{org['slug']}".casefold()]


@app.command("show")
@api_command
def show(org: OrgArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Show an organization: its id, slug, your role, its limits and what it uses right now.

    Example: ias-admin org show acme-research
    """
    with client(url) as api:
        found = api.get(f"/api/orgs/{refs.org_id(api, org)}")
        limits = api.get(f"/api/orgs/{found['id']}/limits")
    if as_json:
        emit({**found, "models": limits["models"], "usage": limits["usage"]}, as_json=True)
        return
    typer.echo(f"{found['name']} ({found['slug']})")
    facts = {
        "id": found["id"],
        "your role": found["role"] or "none (you are a super admin)",
        "created": minute("created_at")(found),
    }
    for label, value in facts.items():
        typer.echo(f"  {label:<10} {value}")
    show_limits(found["limits"], limits["usage"])
    if limits["models"]:
        columns = [("model", "model"), ("rpm", "rpm"), ("tpm", "tpm")]
        emit(limits["models"], as_json=False, columns=columns, title="per-model limits")


def show_limits(limits: dict[str, Any], usage: dict[str, Any] | None) -> None:
    """The org-wide limits as a table; with `usage`, next to what is counted against each."""
    rows = [
        {
            "limit": name,
            "meaning": meaning,
            "value": "unlimited" if limits.get(name) is None else limits[name],
            "used": None if usage is None else usage.get(counter),
        }
        for name, meaning, counter in LIMITS
    ]
    columns: list[tuple[str, str]] = [("limit", "limit"), ("what", "meaning"), ("value", "value")]
    if usage is not None:
        columns.append(("used now", "used"))
    emit(rows, as_json=False, columns=columns, title="limits")


@app.command("delete")
@api_command
def delete(org: OrgArgument, yes: YesOption = False, url: UrlOption = None) -> None:
    """Delete an organization with its members, invites and API keys (owners, super admins).

    Its usage history stays in the ledger.

    Example: ias-admin org delete acme-research --yes
    """
    with client(url) as api:
        found = api.get(f"/api/orgs/{refs.org_id(api, org)}")
        label = f"{found['name']} ({found['slug']}, {found['id']})"
        confirm(f"Delete organization {label} with its members, invites and keys?", yes)
        api.delete(f"/api/orgs/{found['id']}")
    done(f"deleted organization {label}")


def limit_option(help: str, minimum: int = 0) -> Any:
    return typer.Option(min=minimum, show_default=False, help=help)


def clear_option(flag: str, what: str) -> Any:
    return typer.Option(flag, show_default=False, help=f"Remove the {what} (unlimited).")


@app.command("set-limits")
@api_command
def set_limits(
    org: OrgArgument,
    rpm: Annotated[int | None, limit_option("Requests per minute for the whole org.")] = None,
    tpm: Annotated[int | None, limit_option("Tokens per minute for the whole org.")] = None,
    concurrency: Annotated[
        int | None, limit_option("Requests the org may have in flight at once.", minimum=1)
    ] = None,
    monthly_token_quota: Annotated[int | None, limit_option("Tokens per calendar month.")] = None,
    monthly_budget_usd: Annotated[
        float | None,
        typer.Option(min=0.0, show_default=False, help="Spend per calendar month, in US dollars."),
    ] = None,
    clear_rpm: Annotated[bool, clear_option("--clear-rpm", "rpm limit")] = False,
    clear_tpm: Annotated[bool, clear_option("--clear-tpm", "tpm limit")] = False,
    clear_concurrency: Annotated[
        bool, clear_option("--clear-concurrency", "concurrency limit")
    ] = False,
    clear_monthly_token_quota: Annotated[
        bool, clear_option("--clear-monthly-token-quota", "monthly token quota")
    ] = False,
    clear_monthly_budget_usd: Annotated[
        bool, clear_option("--clear-monthly-budget-usd", "monthly budget")
    ] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an organization's limits (super admin); limits not mentioned stay as they are.

    A cleared limit means unlimited.

    \b
    Example:
      ias-admin org set-limits acme-research --rpm 600 --tpm 200000 --concurrency 20
      ias-admin org set-limits acme-research --monthly-budget-usd 250 --clear-monthly-token-quota
    """
    body = limit_changes(
        {
            "rpm": (rpm, clear_rpm),
            "tpm": (tpm, clear_tpm),
            "concurrency": (concurrency, clear_concurrency),
            "monthly_token_quota": (monthly_token_quota, clear_monthly_token_quota),
            "monthly_budget_usd": (monthly_budget_usd, clear_monthly_budget_usd),
        }
    )
    with client(url) as api:
        updated = api.patch(f"/api/admin/orgs/{refs.org_id(api, org)}/limits", body)
    if as_json:
        emit(updated, as_json=True)
        return
    typer.echo(f"updated the limits of {updated['name']} ({updated['slug']})")
    show_limits(updated["limits"], None)


def limit_changes(options: dict[str, tuple[float | None, bool]]) -> dict[str, Any]:
    """The PATCH body: a value sets a limit, a clear flag sends null (unlimited)."""
    body: dict[str, Any] = {}
    for name, (value, clear) in options.items():
        flag = name.replace("_", "-")
        if clear and value is not None:
            raise typer.BadParameter(
                f"contradicts --clear-{flag}; give one of them", param_hint=f"'--{flag}'"
            )
        if clear or value is not None:
            body[name] = value
    if not body:
        raise typer.BadParameter(
            "nothing to change: give a limit (e.g. --rpm 600) or a --clear-… flag",
            param_hint="limits",
        )
    return body
