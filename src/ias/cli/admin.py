"""`ias-admin`: the operator's command line.

Most groups talk to the control-plane API as the signed-in user (`ias-admin login`); `bootstrap`
and `usage reconcile` work on the database directly, for the first admin and for auditors.
"""

from __future__ import annotations

import typer

from ias.cli import (
    audit,
    backends,
    bootstrap,
    demo,
    invites,
    keys,
    members,
    models,
    orgs,
    session,
    usage_admin,
    usage_report,
    users,
)

HELP = """Operate an IAS installation.

Sign in once, then manage organizations, users, keys, models and usage:

\b
  ias-admin login --url https://ias.example.com --email ada@example.com
  ias-admin org create "Acme"
  ias-admin key create acme --name ci
  ias-admin usage show acme --granularity day --group-by model

`bootstrap` and `demo seed` work on the database directly (IAS_DATABASE_URL), before anyone
can sign in.
Every command prints a table, or JSON with --json; exit codes: 0 done, 1 refused or failed,
2 wrong usage.
"""

app = typer.Typer(
    name="ias-admin",
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    # A traceback's local variables may hold passwords and secrets.
    pretty_exceptions_show_locals=False,
)
session.register(app)
app.add_typer(bootstrap.app, name="bootstrap")
app.add_typer(demo.app, name="demo")
usage_report.register(usage_admin.app)
app.add_typer(usage_admin.app, name="usage")
app.add_typer(orgs.app, name="org")
app.add_typer(users.app, name="user")
app.add_typer(members.app, name="member")
app.add_typer(invites.app, name="invite")
app.add_typer(keys.app, name="key")
app.add_typer(models.app, name="model")
app.add_typer(backends.app, name="backend")
app.add_typer(audit.app, name="audit")
