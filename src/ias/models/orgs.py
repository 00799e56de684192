"""Organisations, who belongs to them, and the invitations that let people in."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, created_at_column, id_column, str_enum, updated_at_column


class OrgRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Org(Base):
    """A tenant. Every limit left NULL means unlimited."""

    __tablename__ = "orgs"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    rpm_limit: Mapped[int | None]
    tpm_limit: Mapped[int | None]
    monthly_token_quota: Mapped[int | None] = mapped_column(BigInteger)
    monthly_budget_micros: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    concurrency_limit: Mapped[int | None]


class OrgModelLimit(Base):
    """One model's per-minute limits inside one org, on top of the org-wide ones."""

    __tablename__ = "org_model_limits"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    rpm_limit: Mapped[int | None]
    tpm_limit: Mapped[int | None]


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own because the primary key leads with org_id and "my orgs" asks by user.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[OrgRole] = mapped_column(str_enum(OrgRole, "role"))
    created_at: Mapped[datetime] = created_at_column()


class Invite(Base):
    """A single-use, expiring link; only the hash of its token is kept."""

    __tablename__ = "invites"

    id: Mapped[uuid.UUID] = id_column()
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[OrgRole] = mapped_column(str_enum(OrgRole, "role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # SET NULL, not CASCADE: deleting the inviter must not erase who joined through the invite.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
