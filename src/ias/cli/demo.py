"""`ias-admin demo seed`: demo data to try the portal, the usage API and the SDK with."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from ias.cli.output import fail, one_line_errors, say
from ias.cli.render import JsonOption, emit
from ias.cli.startup import database_settings, migrate_if_needed, open_database
from ias.demo_data import DemoRefused, SeedReport, seed
from ias.secrets import resolve_secrets

app = typer.Typer(help="Demo data for trying IAS out.", no_args_is_help=True)


@app.command("seed")
@one_line_errors
def seed_command(
    force: Annotated[
        bool, typer.Option("--force", help="Seed even if the database holds other orgs.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password of the demo people (default: a random one, printed once).",
            envvar="IAS_DEMO_PASSWORD",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a demo org with one person per role, two API keys, two priced models and the last
    30 days of synthetic usage, written through the usage ledger. Works on the database directly
    (IAS_DATABASE_URL, else IAS_HOME's SQLite file). Running it again adds only what is missing,
    so the usage stays the same (or grows by the days since the last run).

    Example: ias-admin demo seed
    """
    try:
        report = asyncio.run(_seed(force, password))
    except DemoRefused as exc:
        fail(str(exc))
    if as_json:
        emit(_summary(report), as_json=True)
    else:
        _print(report)


async def _seed(force: bool, password: str | None) -> SeedReport:
    settings = resolve_secrets(database_settings())
    db = await open_database(settings)
    try:
        await migrate_if_needed(settings)
        return await seed(db, settings.secret("api_key_secret"), force=force, password=password)
    finally:
        await db.dispose()


def _summary(report: SeedReport) -> dict[str, Any]:
    return {
        "org_id": str(report.org_id),
        "people": report.people,
        "password": report.password,
        "new_keys": report.new_keys,
        "events": report.events,
        "stored": report.stored,
        "requests": report.requests,
        "prompt_tokens": report.prompt_tokens,
        "completion_tokens": report.completion_tokens,
        "cost_usd": report.cost_micros / 1_000_000,
    }


def _print(report: SeedReport) -> None:
    say(f"demo org {report.org_id} (slug 'demo')")
    for email, role in report.people.items():
        say(f"  {role:<7} {email}")
    if report.password is not None:
        say(f"  password of the new demo people (shown once): {report.password}")
    for name, key in report.new_keys.items():
        say(f"  API key {name!r} (shown once): {key}")
    say(
        f"usage: {report.events} events over 30 days, {report.stored} stored now; "
        f"{report.prompt_tokens + report.completion_tokens} tokens, "
        f"USD {report.cost_micros / 1_000_000:.2f}"
    )
