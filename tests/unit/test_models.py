"""Model metadata, partition naming and the migration scripts, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from ias.migrations.runner import MIGRATIONS_DIR, alembic_config, head_revision
from ias.models import Base, Membership, ModelEntry, OrgRole, UsageEvent
from ias.models.partitions import (
    add_months,
    is_missing_partition,
    is_partition_name,
    month_start,
    partition_ddl,
    partition_name,
)

POSTGRES_MAX_IDENTIFIER = 63


def _named_things() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for table in Base.metadata.sorted_tables:
        found += [(table.name, str(c.name) if c.name else None) for c in table.constraints]
        found += [(table.name, str(i.name) if i.name else None) for i in table.indexes]
    return found


def test_every_constraint_and_index_has_a_portable_name() -> None:
    # PostgreSQL silently truncates longer names, which would make the dialects differ.
    for table, name in _named_things():
        assert name, f"unnamed constraint or index on {table}"
        assert len(name) <= POSTGRES_MAX_IDENTIFIER, name
        assert name.split("_", 1)[0] in {"pk", "fk", "uq", "ix", "ck"}, name


def test_enums_are_stored_by_value_under_a_check() -> None:
    ddl = str(CreateTable(Membership.__table__).compile(dialect=sqlite.dialect()))
    assert (
        "CONSTRAINT ck_memberships_role CHECK (role IN ('owner', 'admin', 'member', 'viewer'))"
        in ddl
    )
    assert [role.value for role in OrgRole] == ["owner", "admin", "member", "viewer"]
    kind = ModelEntry.__table__.c.kind.type
    assert isinstance(kind, sa.Enum)
    assert kind.enums == ["chat", "completion", "embedding"]


def test_usage_events_are_partitioned_on_postgres_only() -> None:
    table = UsageEvent.__table__
    assert [c.name for c in table.primary_key.columns] == ["event_id", "ts"]
    assert not any(column.foreign_keys for column in table.columns)
    on_postgres = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    on_sqlite = str(CreateTable(table).compile(dialect=sqlite.dialect()))
    assert on_postgres.rstrip().endswith("PARTITION BY RANGE (ts)")
    assert "PARTITION" not in on_sqlite


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 15, 12, tzinfo=UTC), "usage_events_p202601"),
        (date(2026, 12, 1), "usage_events_p202612"),
        # 00:30 on 1 March at UTC+1 is still February in UTC.
        (datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "usage_events_p202602"),
    ],
)
def test_partition_name_uses_the_utc_month(moment: date, expected: str) -> None:
    assert partition_name(moment) == expected
    assert is_partition_name(expected)


def test_partition_names_are_recognised_exactly() -> None:
    assert not is_partition_name("usage_events")
    assert not is_partition_name("usage_events_p2026")
    assert not is_partition_name("usage_rollups_p202601")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        month_start(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("months", "expected"),
    [(0, (2025, 11)), (1, (2025, 12)), (2, (2026, 1)), (14, (2027, 1)), (-11, (2024, 12))],
)
def test_add_months_crosses_years(months: int, expected: tuple[int, int]) -> None:
    moved = add_months(datetime(2025, 11, 1, tzinfo=UTC), months)
    assert (moved.year, moved.month, moved.day) == (*expected, 1)


def test_partition_ddl_covers_exactly_one_utc_month() -> None:
    assert partition_ddl(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == (
        "CREATE TABLE IF NOT EXISTS usage_events_p202512 PARTITION OF usage_events "
        "FOR VALUES FROM ('2025-12-01 00:00:00+00') TO ('2026-01-01 00:00:00+00')"
    )


class _DriverError(Exception):
    def __init__(self, sqlstate: str, constraint_name: str | None) -> None:
        super().__init__("boom")
        self.sqlstate = sqlstate
        self.constraint_name = constraint_name


@pytest.mark.parametrize(
    ("sqlstate", "constraint", "missing"),
    [
        ("23514", None, True),
        ("23514", "ck_usage_rollups_granularity", False),
        ("23505", None, False),
    ],
)
def test_missing_partition_is_a_check_violation_naming_no_constraint(
    sqlstate: str, constraint: str | None, missing: bool
) -> None:
    assert is_missing_partition(_DriverError(sqlstate, constraint)) is missing


def test_migrations_ship_with_the_package_and_form_one_line() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    script = ScriptDirectory.from_config(alembic_config())
    assert Path(script.dir) == MIGRATIONS_DIR
    assert script.get_heads() == [head_revision()] == ["0003"]
    assert [revision.revision for revision in script.walk_revisions()][-1] == "0001"
