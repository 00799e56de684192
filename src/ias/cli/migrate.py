"""`ias migrate`: bring the configured database to a schema revision."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from ias.cli.output import fail, one_line_errors, say
from ias.cli.startup import database_settings, describe_database, migrate, open_database
from ias.settings import Settings


@one_line_errors
def migrate_command(
    revision: Annotated[str, typer.Option(help="Revision to upgrade to.")] = "head",
    downgrade: Annotated[
        str | None,
        typer.Option(help="Downgrade to this revision instead (e.g. -1, or base).", metavar="REV"),
    ] = None,
) -> None:
    """Migrate the database (IAS_DATABASE_URL, else the SQLite file in IAS_HOME)."""
    if downgrade is not None and revision != "head":
        fail("give either --revision or --downgrade, not both")
    settings = database_settings()
    target = downgrade if downgrade is not None else revision
    current = asyncio.run(_migrate(settings, target, downgrade=downgrade is not None))
    where = describe_database(settings.effective_database_url)
    say(f"{where} is at revision {current or 'base (empty schema)'}")


async def _migrate(settings: Settings, revision: str, *, downgrade: bool) -> str | None:
    db = await open_database(settings)  # a clear error for an unreachable database first
    await db.dispose()
    await migrate(settings, revision, downgrade=downgrade)
    from ias.migrations import runner  # alembic: loaded only when migrating

    current: str | None = await runner.current_revision(settings.effective_database_url)
    return current
