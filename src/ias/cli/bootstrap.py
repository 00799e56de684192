"""`ias-admin bootstrap …`: set up an installation straight on its database."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from ias.bootstrap import create_super_admin, validate_credentials
from ias.cli.output import one_line_errors, say
from ias.cli.startup import database_settings, migrate_if_needed, open_database
from ias.models import User
from ias.settings import Settings

app = typer.Typer(help="Set up an installation directly on its database.", no_args_is_help=True)


@app.command("create-super-admin")
@one_line_errors
def create_super_admin_command(
    email: Annotated[str, typer.Option(help="Email address the super admin signs in with.")],
    password: Annotated[
        str,
        typer.Option(
            help="At least 12 characters, not a common password. Prompted for when omitted.",
            envvar="IAS_ADMIN_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a super admin, or make an existing account one (its password is left unchanged)."""
    # A refused password should not leave a freshly created IAS_HOME behind.
    email = validate_credentials(email, password)
    settings = database_settings()
    user, created = asyncio.run(_create(settings, email, password, name))
    if created:
        say(f"created super admin {user.email}")
        return
    note = " (the account is disabled)" if user.disabled else ""
    say(f"super admin {user.email} already exists; its password was left unchanged{note}")


async def _create(
    settings: Settings, email: str, password: str, name: str | None
) -> tuple[User, bool]:
    db = await open_database(settings)
    try:
        await migrate_if_needed(settings)
        return await create_super_admin(db, email, password, name)
    finally:
        await db.dispose()
