"""`ias-admin key …`: an organization's API keys. The secret is printed once, when the key is
created; the server keeps only a hash, so nothing can show it again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from ias.cli.refs import org_id
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

app = typer.Typer(
    help="""Create, list and revoke an organization's API keys.

\b
Example:
  ias-admin key create acme --name ci --model demo-chat --rpm 60
  ias-admin key list acme
  ias-admin key revoke acme 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b
""",
    no_args_is_help=True,
)


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an RFC 3339 timestamp such as 2026-12-31T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no timezone; add Z or an offset such as +02:00")
    return moment


@app.command("create")
@api_command
def create(
    org: OrgArgument,
    name: Annotated[str, typer.Option(help="Tells keys apart, e.g. the app that uses it.")],
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            metavar="MODEL",
            help="A model the key may call; repeat for several. Default: every model.",
            show_default=False,
        ),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option(min=1, help="Requests per minute (default: the org's).")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option(min=1, help="Tokens per minute (default: the org's).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Requests in flight at once (default: the org's).")
    ] = None,
    expires_at: Annotated[
        datetime | None,
        typer.Option(
            parser=_timestamp,
            metavar="T",
            help="When the key stops working: RFC 3339 with a zone. Default: never.",
            show_default=False,
        ),
    ] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print its secret, once.

    Example: ias-admin key create acme --name ci --model demo-chat --rpm 60
    """
    body = {
        "name": name,
        "models": model or None,
        "rpm_limit": rpm,
        "tpm_limit": tpm,
        "concurrency_limit": concurrency,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    with client(url) as api:
        org_ref = org_id(api, org)
        created: dict[str, Any] = api.post(f"/api/orgs/{org_ref}/api-keys", body)
    if as_json:
        emit(created, as_json=True)
        return
    _show_secret(created, org)


def _show_secret(created: dict[str, Any], org: str) -> None:
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"Created API key {created['name']!r} ({created['id']}) for {org}:")
    console.print()
    # On a line of its own and never wrapped, so it can be copied whole.
    console.print(Text(f"  {created['key']}", style="bold green"))
    console.print()
    console.print(
        Text("Save this key now: it is not shown again.", style="bold yellow"),
    )


@app.command("list")
@api_command
def list_keys(org: OrgArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List an organization's API keys, newest first (no secrets).

    Example: ias-admin key list acme --json
    """
    with client(url) as api:
        keys: list[dict[str, Any]] = api.get(f"/api/orgs/{org_id(api, org)}/api-keys")
    emit(
        keys,
        as_json=as_json,
        columns=[
            ("id", "id"),
            ("name", "name"),
            ("prefix", "prefix"),
            ("status", "status"),
            ("models", lambda key: key.get("models") or "all"),
            ("limits", _limits),
            ("expires", "expires_at"),
            ("last used", "last_used_at"),
        ],
    )


def _limits(key: dict[str, Any]) -> str:
    limits = [
        f"{value} {unit}"
        for unit, value in (
            ("rpm", key.get("rpm_limit")),
            ("tpm", key.get("tpm_limit")),
            ("in flight", key.get("concurrency_limit")),
        )
        if value is not None
    ]
    return ", ".join(limits) or "the org's"


@app.command("revoke")
@api_command
def revoke(
    org: OrgArgument,
    key_id: Annotated[
        uuid.UUID, typer.Argument(metavar="KEY_ID", help="The key's id (see `key list`).")
    ],
    yes: YesOption = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key: requests with it fail within moments.

    \b
    Example:
      ias-admin key revoke acme 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --yes
    """
    with client(url) as api:
        org_ref = org_id(api, org)
        confirm(f"Revoke API key {key_id} of {org}? Requests with it will fail.", yes)
        api.delete(f"/api/orgs/{org_ref}/api-keys/{key_id}")
    done(f"revoked API key {key_id}", {"id": str(key_id), "revoked": True}, as_json=as_json)
