"""Concurrency limits for orgs and keys, and per-model limits inside an org.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

`org_model_limits` caps one model's requests and tokens per minute for one org, on top of the
org-wide and per-key limits (a model name, not an id: the router resolves limits by the name
clients send, and a limit on a deleted model simply stops applying).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default is a plain ADD COLUMN on both dialects.
    op.add_column("orgs", sa.Column("concurrency_limit", sa.Integer(), nullable=True))
    op.add_column("api_keys", sa.Column("concurrency_limit", sa.Integer(), nullable=True))
    op.create_table(
        "org_model_limits",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("tpm_limit", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_org_model_limits_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "model", name=op.f("pk_org_model_limits")),
    )


def downgrade() -> None:
    op.drop_table("org_model_limits")
    for table in ("api_keys", "orgs"):
        # SQLite 3.35+ drops a plain column in place; batch mode would rebuild the table and
        # trip over the expression index on users while reflecting its neighbours.
        op.execute(f"ALTER TABLE {table} DROP COLUMN concurrency_limit")
