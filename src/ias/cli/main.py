"""`ias`: run the platform (`up`, `serve`, `worker`) and manage its schema (`migrate`)."""

from __future__ import annotations

import typer

from ias.cli.migrate import migrate_command
from ias.cli.serve import serve, up
from ias.cli.worker import app as worker_app

app = typer.Typer(
    name="ias",
    help="IAS: inference as a service, self-hosted.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback's local variables may hold passwords and secrets.
    pretty_exceptions_show_locals=False,
)
app.command("up")(up)
app.command("serve")(serve)
app.command("migrate")(migrate_command)
app.add_typer(worker_app, name="worker")
