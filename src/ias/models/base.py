"""The declarative base every model shares, and the column shapes they reuse.

Constraint and index names come from one naming convention, so SQLite and PostgreSQL end up
with identical names and a later migration can drop or alter a constraint by name on both.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, MetaData, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column
from sqlalchemy.types import TypeEngine

from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.kit.types import UTCDateTime

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime,
        uuid.UUID: Uuid,
    }


def json_type() -> TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL; Python None is SQL NULL, never the JSON `null`."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def str_enum(enum_class: type[enum.StrEnum], name: str, length: int = 16) -> Enum:
    """A StrEnum stored as its value in a short VARCHAR guarded by a named CHECK constraint.

    Not a native PostgreSQL enum: adding a value to a CHECK is one migration on both dialects,
    while `ALTER TYPE ... ADD VALUE` has no SQLite equivalent.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def id_column() -> MappedColumn[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid7)


def created_at_column() -> MappedColumn[datetime]:
    return mapped_column(default=utcnow)


def updated_at_column() -> MappedColumn[datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow)
