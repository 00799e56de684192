"""API keys. The key itself is never stored: only its HMAC-SHA256 (hex) under a server secret."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, created_at_column, id_column, json_type


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = id_column()
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    # SET NULL, not CASCADE: the key row must outlive its creator so that usage grouped by key
    # still has a name; revoking the keys of a departed user is the service's job.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL allows every model; a list allows exactly those public model names.
    models: Mapped[list[str] | None] = mapped_column(json_type())
    rpm_limit: Mapped[int | None]
    tpm_limit: Mapped[int | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    concurrency_limit: Mapped[int | None]
