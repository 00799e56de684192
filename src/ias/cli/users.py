"""`ias-admin user …`: every account on the platform, for super admins: list, disable, enable,
and grant or revoke super admin rights."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ias.cli import refs
from ias.cli.api_client import ApiClient
from ias.cli.orgs import LimitOption, minute, note_more, page_through
from ias.cli.render import (
    Column,
    JsonOption,
    UrlOption,
    YesOption,
    api_command,
    client,
    confirm,
    done,
    emit,
)

HELP = """Manage user accounts across the platform (super admin).

\b
Example:
  ias-admin user list --search @example.com
  ias-admin user disable mallory@example.com --yes
  ias-admin user make-super-admin ada@example.com
"""

app = typer.Typer(help=HELP, no_args_is_help=True)

UserArgument = Annotated[str, typer.Argument(metavar="USER", help="The user's id or email.")]

COLUMNS: list[Column] = [
    ("id", "id"),
    ("email", "email"),
    ("name", "name"),
    ("disabled", "disabled"),
    ("super admin", "is_super_admin"),
    ("orgs", "orgs"),
    ("created", minute("created_at")),
]


def _update(api: ApiClient, user_id: str, **changes: bool) -> dict[str, Any]:
    updated: dict[str, Any] = api.patch(f"/api/admin/users/{user_id}", changes)
    return updated


@app.command("list")
@api_command
def list_users(
    search: Annotated[
        str | None, typer.Option(help="Only emails or names containing this text.")
    ] = None,
    limit: LimitOption = 200,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every account, newest first, with its state and how many orgs it belongs to.

    Example: ias-admin user list --search @example.com
    """
    with client(url) as api:
        rows, more = page_through(api, "/api/admin/users", limit=limit, q=search)
    emit(rows, as_json=as_json, columns=COLUMNS)
    note_more(more, len(rows))


@app.command("disable")
@api_command
def disable(
    user: UserArgument, yes: YesOption = False, url: UrlOption = None, as_json: JsonOption = False
) -> None:
    """Disable an account: it is signed out everywhere and its API keys stop working.

    Example: ias-admin user disable mallory@example.com --yes
    """
    with client(url) as api:
        found = refs.user_id(api, user)
        confirm(f"Disable {user}? They are signed out at once and their API keys stop.", yes)
        updated = _update(api, found, disabled=True)
    done(f"disabled {updated['email']}", updated, as_json=as_json)


@app.command("enable")
@api_command
def enable(user: UserArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Enable a disabled account again; they sign in anew.

    Example: ias-admin user enable mallory@example.com
    """
    with client(url) as api:
        updated = _update(api, refs.user_id(api, user), disabled=False)
    done(f"enabled {updated['email']}", updated, as_json=as_json)


@app.command("make-super-admin")
@api_command
def make_super_admin(
    user: UserArgument,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take the super admin rights away instead.")
    ] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Grant super admin rights (every org, the model registry), or take them with --revoke.

    Nobody can revoke their own rights, and the last enabled super admin stays one.

    \b
    Example:
      ias-admin user make-super-admin ada@example.com
      ias-admin user make-super-admin ada@example.com --revoke
    """
    with client(url) as api:
        updated = _update(api, refs.user_id(api, user), is_super_admin=not revoke)
    verb = "is no longer" if revoke else "is now"
    done(f"{updated['email']} {verb} a super admin", updated, as_json=as_json)
