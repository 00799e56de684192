"""The trace id of each usage event, so a ledger row leads to its trace and log lines.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

A nullable column without a default: on PostgreSQL, adding it to the partitioned parent adds it
to every partition, and only the catalogue changes (no table is rewritten); rows stored before
it simply have no trace id. No index: rows are found by org and time, and a trace id is read
from a row, not searched for.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("usage_events", sa.Column("trace_id", sa.String(32), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN on both dialects (SQLite 3.35+); on PostgreSQL it reaches every
    # partition. Batch mode would rebuild the table, which a partitioned table cannot be.
    op.execute("ALTER TABLE usage_events DROP COLUMN trace_id")
