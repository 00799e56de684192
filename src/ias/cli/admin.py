"""`ias-admin`: operator commands that work directly on the database."""

from __future__ import annotations

import typer

from ias.cli import bootstrap, usage_admin

app = typer.Typer(
    name="ias-admin",
    help="Operate an IAS installation directly on its database.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback's local variables may hold passwords and secrets.
    pretty_exceptions_show_locals=False,
)
app.add_typer(bootstrap.app, name="bootstrap")
app.add_typer(usage_admin.app, name="usage")
