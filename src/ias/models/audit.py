"""The audit log: every mutating control-plane action, kept as history.

No foreign keys: an entry must survive the deletion of the user who acted and of the org it
concerns (the deletion itself is an audited action), so ids are kept as plain values.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, created_at_column, id_column, json_type


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "org_id", "at"),
        Index(None, "at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    at: Mapped[datetime] = created_at_column()
    actor_user_id: Mapped[uuid.UUID | None]
    org_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
