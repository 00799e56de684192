"""Response bodies of `/api/orgs/{org_id}/audit` and `/api/admin/audit`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryRead(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_user_id: uuid.UUID | None = Field(
        description="Null for anonymous calls (failed sign-ins)."
    )
    actor_email: str | None = Field(description="The actor's current email; null once deleted.")
    org_id: uuid.UUID | None = Field(description="Null for platform-wide actions.")
    action: str = Field(examples=["org.renamed"])
    target_type: str | None
    target_id: str | None
    ip: str | None = Field(description="The client address the call came from.")
    details: dict[str, Any] = Field(description="What changed; never a secret.")


class AuditPageRead(BaseModel):
    data: list[AuditEntryRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
