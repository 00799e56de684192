"""Migrations build the schema the models describe, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from ias.migrations import runner
from ias.migrations.drift import unreflectable_indexes_expected
from ias.models import Base
from ias.models.partitions import is_partition_name

T = TypeVar("T")
APP_TABLES = set(Base.metadata.tables)


async def _inspect(url: str, read: Callable[[Connection], T]) -> T:
    engine = runner.migration_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return {
        name for name in sa.inspect(connection).get_table_names() if not is_partition_name(name)
    }


async def _execute(url: str, *statements: str) -> None:
    engine = runner.migration_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert await runner.current_revision(database_url) is None

    await runner.upgrade(database_url)
    assert await runner.current_revision(database_url) == runner.head_revision() == "0003"
    assert await _inspect(database_url, _table_names) == APP_TABLES | {"alembic_version"}

    await runner.downgrade(database_url, "base")
    assert await runner.current_revision(database_url) is None
    assert await _inspect(database_url, _table_names) == {"alembic_version"}

    await runner.upgrade(database_url)
    assert await _inspect(database_url, _table_names) == APP_TABLES | {"alembic_version"}


async def test_upgrade_at_head_changes_nothing(database_url: str) -> None:
    await runner.upgrade(database_url)
    await runner.upgrade(database_url)
    assert await runner.current_revision(database_url) == "0003"
    assert await runner.schema_diff(database_url) == []


async def test_models_match_migrations(database_url: str) -> None:
    await runner.upgrade(database_url)
    assert await runner.schema_diff(database_url) == []


async def test_drift_is_reported(database_url: str) -> None:
    await runner.upgrade(database_url)
    # One plain and one expression index: SQLite cannot reflect the latter, so this proves
    # the separate check of expression indexes reports it too.
    await _execute(database_url, "DROP INDEX ix_api_keys_prefix", "DROP INDEX uq_users_lower_email")

    diff = await runner.schema_diff(database_url)

    added = sorted(entry[1].name for entry in diff if entry[0] == "add_index")
    assert added == ["ix_api_keys_prefix", "uq_users_lower_email"]
    assert len(diff) == 2


async def test_failed_upgrade_leaves_no_partial_schema(database_url: str) -> None:
    # audit_log is created last: everything before it must be rolled back with it.
    await _execute(database_url, "CREATE TABLE audit_log (id INTEGER PRIMARY KEY)")

    with pytest.raises(DBAPIError):
        await runner.upgrade(database_url)

    assert await _inspect(database_url, _table_names) == {"audit_log"}
    assert await runner.current_revision(database_url) is None


def _squash(sql: str) -> str:
    """`lower((email)::text)` (PostgreSQL) and `lower(email)` (SQLite) both become `loweremail`."""
    return re.sub(r"::\w+|[\s()\"]", "", sql).lower()


def _split_top_level(sql: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in sql:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _type_family(type_: sa.types.TypeEngine[Any], dialect: str) -> str:
    if isinstance(type_, sa.Uuid):
        return "uuid"
    if dialect == "sqlite" and isinstance(type_, sa.CHAR) and type_.length == 32:
        return "uuid"  # how sa.Uuid is stored on SQLite
    if isinstance(type_, sa.BigInteger):
        return "bigint"
    if isinstance(type_, sa.Integer):
        return "integer"
    if isinstance(type_, sa.Boolean):
        return "boolean"
    if isinstance(type_, sa.DateTime):
        return "datetime"
    if isinstance(type_, sa.JSON):
        return "json"
    if isinstance(type_, sa.Text):
        return "text"
    if isinstance(type_, sa.String):
        return f"varchar({type_.length})"
    raise AssertionError(f"no family for {type_!r}")


def _indexes(connection: Connection, table: str) -> list[tuple[str, bool, tuple[str, ...]]]:
    found = []
    if connection.dialect.name == "sqlite":
        # Read SQLite's catalogue directly: its reflection skips expression-based indexes.
        for _seq, name, unique, origin, _partial in connection.exec_driver_sql(
            f"PRAGMA index_list('{table}')"
        ):
            if origin != "c":
                continue  # primary key and unique constraints are compared on their own
            sql = connection.scalar(
                sa.text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name}
            )
            elements = _split_top_level(sql[sql.index("(") + 1 : sql.rindex(")")])
            found.append((name, bool(unique), tuple(_squash(part) for part in elements)))
    else:
        for index in sa.inspect(connection).get_indexes(table):
            if index.get("duplicates_constraint"):
                continue
            elements = index.get("expressions") or index["column_names"]
            found.append((index["name"], bool(index["unique"]), tuple(map(_squash, elements))))
    return sorted(found)


def _schema(connection: Connection) -> dict[str, dict[str, Any]]:
    # SQLite's unique-constraint reflection trips over the expression index it cannot reflect;
    # _indexes reads that index from the catalogue instead.
    with unreflectable_indexes_expected():
        return _reflect_schema(connection)


def _reflect_schema(connection: Connection) -> dict[str, dict[str, Any]]:
    inspector = sa.inspect(connection)
    dialect = connection.dialect.name
    schema = {}
    for table in sorted(_table_names(connection)):
        primary_key = inspector.get_pk_constraint(table)
        schema[table] = {
            "columns": [
                (
                    column["name"],
                    column["nullable"],
                    _type_family(column["type"], dialect),
                    column["default"] is not None,
                )
                for column in inspector.get_columns(table)
            ],
            "primary_key": (primary_key["name"], primary_key["constrained_columns"]),
            "unique": sorted(
                (unique["name"], tuple(unique["column_names"]))
                for unique in inspector.get_unique_constraints(table)
            ),
            "indexes": _indexes(connection, table),
            "foreign_keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "checks": sorted(check["name"] for check in inspector.get_check_constraints(table)),
        }
    return schema


@pytest.mark.postgres
async def test_both_dialects_build_the_same_schema(sqlite_url: str, postgres_url: str) -> None:
    await runner.upgrade(sqlite_url)
    await runner.upgrade(postgres_url)

    on_sqlite = await _inspect(sqlite_url, _schema)
    on_postgres = await _inspect(postgres_url, _schema)

    assert set(on_sqlite) == APP_TABLES | {"alembic_version"}
    for table in sorted(on_sqlite):
        assert on_sqlite[table] == on_postgres[table], table
    # The comparison is only meaningful if it saw what matters.
    assert ("uq_users_lower_email", True, ("loweremail",)) in on_sqlite["users"]["indexes"]
    assert on_sqlite["usage_events"]["primary_key"] == ("pk_usage_events", ["event_id", "ts"])


@pytest.mark.postgres
async def test_postgres_timestamps_keep_the_zone(postgres_url: str) -> None:
    await runner.upgrade(postgres_url)

    def naive_timestamps(connection: Connection) -> list[str]:
        inspector = sa.inspect(connection)
        return [
            f"{table}.{column['name']}"
            for table in APP_TABLES
            for column in inspector.get_columns(table)
            if isinstance(column["type"], sa.DateTime) and not column["type"].timezone
        ]

    assert await _inspect(postgres_url, naive_timestamps) == []
