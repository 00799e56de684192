"""`ias-admin invite …`: invite people into an organization by email, and take invites back.

The invite link (with its token) is shown only when the invite is created: the server keeps
only a hash, so a lost link means revoking the invite and creating a new one.
"""

from __future__ import annotations

from typing import Annotated, Any

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

HELP = """Invite people into an organization, list and revoke invites.

\b
Example:
  ias-admin invite create acme-research --email ada@example.com --role admin
  ias-admin invite list acme-research
  ias-admin invite revoke acme-research ada@example.com --yes
"""

app = typer.Typer(help=HELP, no_args_is_help=True)

COLUMNS: list[Column] = [
    ("id", "id"),
    ("email", "email"),
    ("role", "role"),
    ("status", "status"),
    ("created", minute("created_at")),
    ("expires", minute("expires_at")),
]


@app.command("create")
@api_command
def create(
    org: OrgArgument,
    email: Annotated[str, typer.Option(help="Who may accept the invite.")],
    role: Annotated[
        OrgRole, typer.Option(help="The role they get; never above your own.", case_sensitive=False)
    ] = OrgRole.MEMBER,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Invite an email into an organization and print the link to send them (shown only now).

    \b
    Example:
      ias-admin invite create acme-research --email ada@example.com --role admin
    """
    with client(url) as api:
        invite = api.post(
            f"/api/orgs/{refs.org_id(api, org)}/invites", {"email": email, "role": role.value}
        )
    if as_json:
        emit(invite, as_json=True)
        return
    _show_link(invite)


def _show_link(invite: dict[str, Any]) -> None:
    expires = minute("expires_at")(invite)
    typer.echo(f"invited {invite['email']} as {invite['role']} (id {invite['id']})")
    typer.echo(f"\nSend this link to the invitee; it works once, until {expires} UTC:\n")
    # On a line of its own and never wrapped, so it can be copied whole.
    typer.secho(f"  {invite['url']}\n", bold=True)
    typer.echo(f"token: {invite['token']}  (not shown again)")


@app.command("list")
@api_command
def list_invites(org: OrgArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List open invites, and those accepted, revoked or expired in the last 30 days.

    Example: ias-admin invite list acme-research --json
    """
    with client(url) as api:
        invites = api.get(f"/api/orgs/{refs.org_id(api, org)}/invites")
    emit(invites, as_json=as_json, columns=COLUMNS)


@app.command("revoke")
@api_command
def revoke(
    org: OrgArgument,
    invite: Annotated[
        str,
        typer.Argument(
            metavar="INVITE", help="The invite's id, or the email of its pending invite."
        ),
    ],
    yes: YesOption = False,
    url: UrlOption = None,
) -> None:
    """Revoke an invite so its link stops working.

    Example: ias-admin invite revoke acme-research ada@example.com --yes
    """
    with client(url) as api:
        org_id = refs.org_id(api, org)
        invite_id = refs.invite_id(api, org_id, invite)
        confirm(f"Revoke the invite {invite} to {org}? Its link stops working.", yes)
        api.delete(f"/api/orgs/{org_id}/invites/{invite_id}")
    done(f"revoked the invite {invite_id}")
