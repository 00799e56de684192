"""`ias-admin login | logout | whoami`: signing the command line in to a control plane."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ias.cli.api_client import ApiClient, ApiError, Credentials, credentials_path, resolve_url
from ias.cli.render import JsonOption, UrlOption, api_command, client, emit


@api_command
def login(
    url: UrlOption = None,
    email: Annotated[str, typer.Option(prompt=True, help="Your account's email.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            envvar="IAS_PASSWORD",
            help="Prompted for when omitted (or taken from IAS_PASSWORD).",
            show_default=False,
        ),
    ] = "",
) -> None:
    """Sign in and save the login (mode 0600) for the other commands.

    Example: ias-admin login --url https://ias.example.com --email ada@example.com
    """
    with ApiClient(resolve_url(url), None) as anonymous:
        credentials = anonymous.login(email, password)
    credentials.save()
    typer.echo(f"signed in to {credentials.url} as {email} (login saved in {credentials_path()})")


@api_command
def logout(url: UrlOption = None) -> None:
    """End the session on the server and forget the saved login.

    Example: ias-admin logout
    """
    try:
        with client(url) as api:
            api.request("POST", "/api/auth/logout")
    except ApiError as exc:
        # Signed out either way: the saved login goes even if the server cannot be told.
        if Credentials.forget():
            typer.echo(f"forgot the saved login; the server was not told ({exc})")
            return
        raise
    Credentials.forget()
    typer.echo("signed out")


@api_command
def whoami(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Show who you are signed in as, and your organizations and roles.

    Example: ias-admin whoami --json
    """
    with client(url) as api:
        me: dict[str, Any] = api.get("/api/me")
    if as_json:
        emit(me, as_json=True)
        return
    admin = " (super admin)" if me.get("is_super_admin") else ""
    typer.echo(f"{me.get('email')}{admin} at {api.url}")
    emit(
        me.get("memberships", []),
        as_json=False,
        columns=[("org", "org_name"), ("org id", "org_id"), ("role", "role")],
    )


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
