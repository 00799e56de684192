"""`ias-admin member …`: who belongs to an organization, and with which role."""

from __future__ import annotations

from typing import Annotated

import typer

from ias.cli import refs
from ias.cli.orgs import minute
from ias.cli.render import (
    Column,
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
from ias.models import OrgRole

HELP = """Manage an organization's members and their roles (owner, admin, member, viewer).

\b
Example:
  ias-admin member list acme-research
  ias-admin member set-role acme-research ada@example.com admin
  ias-admin member remove acme-research mallory@example.com --yes
"""

app = typer.Typer(help=HELP, no_args_is_help=True)

MemberArgument = Annotated[
    str, typer.Argument(metavar="USER", help="The member's user id or email.")
]

COLUMNS: list[Column] = [
    ("user id", "user_id"),
    ("email", "email"),
    ("name", "name"),
    ("role", "role"),
    ("joined", minute("joined_at")),
]


@app.command("list")
@api_command
def list_members(org: OrgArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List an organization's members and their roles.

    Example: ias-admin member list acme-research
    """
    with client(url) as api:
        members = api.get(f"/api/orgs/{refs.org_id(api, org)}/members")
    emit(members, as_json=as_json, columns=COLUMNS)


@app.command("set-role")
@api_command
def set_role(
    org: OrgArgument,
    user: MemberArgument,
    role: Annotated[
        OrgRole, typer.Argument(metavar="ROLE", help="The new role.", case_sensitive=False)
    ],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a member's role. Admins manage members and viewers; owners manage everyone.

    Example: ias-admin member set-role acme-research ada@example.com admin
    """
    with client(url) as api:
        org_id = refs.org_id(api, org)
        member = api.patch(
            f"/api/orgs/{org_id}/members/{refs.member_id(api, org_id, user)}",
            {"role": role.value},
        )
    done(f"{member['email']} is now {member['role']}", member, as_json=as_json)


@app.command("remove")
@api_command
def remove(
    org: OrgArgument, user: MemberArgument, yes: YesOption = False, url: UrlOption = None
) -> None:
    """Remove a member from an organization; their API keys in it are revoked.

    Example: ias-admin member remove acme-research mallory@example.com --yes
    """
    with client(url) as api:
        org_id = refs.org_id(api, org)
        user_id = refs.member_id(api, org_id, user)
        confirm(f"Remove {user} from {org}? Their API keys in it are revoked.", yes)
        api.delete(f"/api/orgs/{org_id}/members/{user_id}")
    done(f"removed {user} from {org}")
