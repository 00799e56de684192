"""Request and response bodies of `/api/orgs/{org_id}/api-keys`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from ias.control.schemas import StrictBody

# The limit columns are 32-bit integers; a larger value would fail in the database.
MAX_LIMIT = 2_147_483_647
MAX_MODELS = 1000

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Limit = Annotated[int, Field(strict=True, ge=1, le=MAX_LIMIT)]


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class ApiKeyCreate(StrictBody):
    name: KeyName = Field(description="Helps people tell keys apart; need not be unique.")
    models: list[ModelName] | None = Field(
        default=None,
        max_length=MAX_MODELS,
        description="Registered model names this key may call; null allows every model.",
    )
    rpm_limit: Limit | None = Field(
        default=None,
        description="Requests per minute for this key, at most the org's; null = the org's.",
    )
    tpm_limit: Limit | None = Field(
        default=None,
        description="Tokens per minute for this key, at most the org's; null = the org's.",
    )
    concurrency_limit: Limit | None = Field(
        default=None,
        description="Requests in flight at once for this key, at most the org's; null = the org's.",
    )
    expires_at: datetime | None = Field(
        default=None,
        description="When the key stops working; must be in the future. Without a zone, UTC.",
    )


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    models: list[str] | None
    rpm_limit: int | None
    tpm_limit: int | None
    concurrency_limit: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: uuid.UUID | None = Field(description="Null once the creator's account is gone.")
    status: KeyStatus


class ApiKeyCreated(BaseModel):
    id: uuid.UUID
    name: str
    key: str = Field(description="The secret key. Shown only in this response: store it now.")
    prefix: str
    models: list[str] | None
    rpm_limit: int | None
    tpm_limit: int | None
    concurrency_limit: int | None
    expires_at: datetime | None
    created_at: datetime
    created_by: uuid.UUID | None
