"""`ias-admin demo seed`: the demo org, its people and keys, and a month of usage through the
ledger — on both SQL dialects, run twice, and refused next to real orgs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from ias.cli.admin import app as admin_app
from ias.demo_data import DEMO_ORG_ID, DemoRefused, seed
from ias.errors import InvalidRequest
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import ApiKey, Membership, Org, OrgRole, UsageRollup

SECRET = "demo-seed-test-secret-" + "x" * 32
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


async def _totals(database: Database, granularity: str) -> tuple[int, int, int, int]:
    rollups = UsageRollup
    query = select(
        func.coalesce(func.sum(rollups.requests), 0),
        func.coalesce(func.sum(rollups.prompt_tokens), 0),
        func.coalesce(func.sum(rollups.completion_tokens), 0),
        func.coalesce(func.sum(rollups.cost_micros), 0),
    ).where(rollups.org_id == DEMO_ORG_ID, rollups.granularity == granularity)
    async with database.engine.connect() as connection:
        row = (await connection.execute(query)).one()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def _raw_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        found = await connection.scalar(text("SELECT count(*) FROM usage_events"))
    return int(found or 0)


async def test_a_month_of_usage_through_the_ledger_whose_totals_are_the_events_written(
    database: Database,
) -> None:
    report = await seed(database, SECRET, now=NOW)

    assert report.stored == report.events > 10_000
    written = (
        report.requests,
        report.prompt_tokens,
        report.completion_tokens,
        report.cost_micros,
    )
    for granularity in ("minute", "hour", "day"):
        assert await _totals(database, granularity) == written
    assert await _raw_count(database) == report.events
    async with database.unit_of_work() as session:
        roles = set(
            await session.scalars(select(Membership.role).where(Membership.org_id == DEMO_ORG_ID))
        )
        keys = await session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.org_id == DEMO_ORG_ID)
        )
    assert roles == set(OrgRole)
    assert keys == 2
    assert set(report.new_keys) == {"web-app", "batch-jobs"}
    assert report.password is not None


async def test_running_it_again_adds_nothing(database: Database) -> None:
    first = await seed(database, SECRET, now=NOW)
    totals = await _totals(database, "day")

    again = await seed(database, SECRET, now=NOW)

    assert again.stored == 0
    assert again.events == first.events
    assert (again.new_keys, again.password) == ({}, None)  # secrets are shown only once
    assert await _totals(database, "day") == totals
    assert await _raw_count(database) == first.events


async def test_a_day_later_only_the_new_day_is_added(database: Database) -> None:
    first = await seed(database, SECRET, now=NOW)
    later = await seed(database, SECRET, now=NOW.replace(day=16))
    # The window moved by a day: one day's events left it (they stay stored), one day's came.
    assert 0 < later.stored < first.events / 10
    assert await _raw_count(database) == first.events + later.stored


async def test_a_database_with_real_orgs_is_refused_unless_forced(database: Database) -> None:
    now = utcnow()
    async with database.unit_of_work() as session:
        session.add(Org(id=uuid.uuid4(), name="Acme", slug="acme", created_at=now, updated_at=now))

    with pytest.raises(DemoRefused, match="1 org"):
        await seed(database, SECRET, now=NOW)
    assert await _raw_count(database) == 0

    forced = await seed(database, SECRET, now=NOW, force=True)
    assert forced.stored == forced.events


async def test_a_weak_password_is_refused(database: Database) -> None:
    with pytest.raises(InvalidRequest):
        await seed(database, SECRET, password="password", now=NOW)


def test_the_command_refuses_with_one_line_and_seeds_with_force(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    env = {"IAS_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    first = runner.invoke(admin_app, ["demo", "seed", "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert '"stored": 0' not in first.output

    again = runner.invoke(admin_app, ["demo", "seed"], env=env)
    assert again.exit_code == 0, again.output
    assert "0 stored now" in again.output
    assert "shown once" not in again.output

    weak = runner.invoke(admin_app, ["demo", "seed", "--password", "short"], env=env)
    assert weak.exit_code == 1
    assert weak.output.startswith("error:")
