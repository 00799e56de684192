"""Request and response bodies of `/api/admin/orgs` and `/api/admin/users`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from ias.control.orgs.schemas import OrgLimits
from ias.control.schemas import StrictBody

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
# Stored as micro-dollars in a BIGINT; a trillion dollars stays far below its range.
MAX_BUDGET_USD = 1e12


MAX_CONCURRENCY = 100_000
MAX_MODEL_LIMITS = 200


class ModelLimitUpdate(StrictBody):
    rpm: int | None = Field(default=None, ge=0, le=MAX_INT32, strict=True)
    tpm: int | None = Field(default=None, ge=0, le=MAX_INT32, strict=True)


class AdminOrgRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    members: int = Field(description="How many people belong to the org.")
    limits: OrgLimits
    created_at: datetime


class AdminOrgPage(BaseModel):
    data: list[AdminOrgRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class AdminUserRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    disabled: bool
    is_super_admin: bool
    created_at: datetime
    orgs: int = Field(description="How many organizations the user belongs to.")


class AdminUserPage(BaseModel):
    data: list[AdminUserRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class AdminUserUpdate(StrictBody):
    disabled: bool | None = Field(
        default=None,
        strict=True,
        description="true signs the user out everywhere and stops their API keys.",
    )
    is_super_admin: bool | None = Field(default=None, strict=True)


class OrgLimitsUpdate(StrictBody):
    """Only the fields sent change; null means unlimited."""

    rpm: int | None = Field(default=None, ge=0, le=MAX_INT32, strict=True)
    tpm: int | None = Field(default=None, ge=0, le=MAX_INT32, strict=True)
    monthly_token_quota: int | None = Field(default=None, ge=0, le=MAX_INT64, strict=True)
    monthly_budget_usd: float | None = Field(
        default=None, ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False
    )
    concurrency: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CONCURRENCY,
        strict=True,
        description="Requests the org may have in flight at once.",
    )
    models: dict[str, ModelLimitUpdate | None] | None = Field(
        default=None,
        max_length=MAX_MODEL_LIMITS,
        description="Per-model limits by public model name, on top of the org-wide ones; "
        "null for a model removes its limits.",
    )
