"""Platform accounts.

An email belongs to at most one account whatever its letter case: the unique index is on
`lower(email)`, so `Alice@x.io` and `alice@x.io` cannot both sign up. SQLite's `lower()` folds
ASCII letters only, PostgreSQL's folds all of Unicode; addresses differing only in the case of
a non-ASCII letter are therefore distinct on SQLite alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, created_at_column, id_column, updated_at_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = id_column()
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_super_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @classmethod
    def email_is(cls, email: str) -> ColumnElement[bool]:
        """Match an email the way the unique index compares them, so the lookup uses it."""
        return func.lower(cls.email) == func.lower(email)


Index("uq_users_lower_email", func.lower(User.email), unique=True)
