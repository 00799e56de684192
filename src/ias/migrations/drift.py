"""Compare a database with the models, the way migrations are checked for drift.

SQLite cannot reflect expression-based indexes (the case-insensitive email index is one), so
Alembic skips them there with a warning. Here those warnings are expected and silenced, and the
skipped indexes are compared against `sqlite_master` instead, so a missing or altered expression
index is still reported on SQLite.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Index, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.schema import CreateIndex

from ias.models import Base
from ias.models.partitions import is_partition_name

_UNREFLECTABLE_INDEX_WARNINGS = (
    (SAWarning, "Skipped unsupported reflection of expression-based index"),
    (UserWarning, "autogenerate skipping metadata-specified expression-based index"),
)


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Leave PostgreSQL's monthly partitions out of comparisons: they are data, not schema."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def context_options(dialect_name: str) -> dict[str, Any]:
    """The options env.py and `compare` give Alembic, so both see the schema the same way."""
    return {
        "target_metadata": Base.metadata,
        "render_as_batch": dialect_name == "sqlite",
        "include_name": include_name,
        "compare_type": True,
        "compare_server_default": True,
    }


def compare(connection: Connection) -> list[Any]:
    """Alembic's diff from the database to the models; empty means no drift."""
    options = context_options(connection.dialect.name)
    metadata = options.pop("target_metadata")
    context = MigrationContext.configure(connection, opts=options)
    if connection.dialect.name != "sqlite":
        return list(compare_metadata(context, metadata))
    with unreflectable_indexes_expected():
        diff = list(compare_metadata(context, metadata))
    return diff + _sqlite_expression_index_diff(connection)


@contextmanager
def unreflectable_indexes_expected() -> Iterator[None]:
    """Silence exactly the warnings about SQLite's expression indexes, which are checked apart."""
    with warnings.catch_warnings():
        for category, message in _UNREFLECTABLE_INDEX_WARNINGS:
            warnings.filterwarnings("ignore", message=re.escape(message), category=category)
        yield


def _sqlite_expression_index_diff(connection: Connection) -> list[Any]:
    diff: list[Any] = []
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            if not _is_expression_index(index):
                continue
            stored = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                {"name": index.name},
            )
            expected = str(CreateIndex(index).compile(dialect=connection.dialect))
            if stored is None:
                diff.append(("add_index", index))
            elif _squash(stored) != _squash(expected):
                diff.append(("modify_index", index, stored))
    return diff


def _squash(sql: str) -> str:
    return re.sub(r"[\s\"`]", "", sql).lower()


def _is_expression_index(index: Index) -> bool:
    return any(not isinstance(expr, Column) for expr in index.expressions)
