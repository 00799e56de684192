"""Request and response bodies of `/api/orgs` and `/api/orgs/{org_id}/members`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from ias.control.schemas import StrictBody, usd
from ias.models import Org, OrgRole

OrgName = Field(min_length=1, max_length=200, description="Shown to members; need not be unique.")


class OrgCreate(StrictBody):
    name: str = OrgName


class OrgUpdate(StrictBody):
    name: str = OrgName


class OrgLimits(BaseModel):
    rpm: int | None = Field(description="Requests per minute for the whole org; null = no limit.")
    tpm: int | None = Field(description="Tokens per minute for the whole org; null = no limit.")
    monthly_token_quota: int | None
    monthly_budget_usd: float | None
    concurrency: int | None = Field(
        default=None, description="Requests in flight at once for the whole org; null = no limit."
    )

    @classmethod
    def of(cls, org: Org) -> OrgLimits:
        return cls(
            rpm=org.rpm_limit,
            tpm=org.tpm_limit,
            monthly_token_quota=org.monthly_token_quota,
            monthly_budget_usd=usd(org.monthly_budget_micros),
            concurrency=org.concurrency_limit,
        )


class OrgRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    role: OrgRole | None = Field(
        description="Your role here; null for a super admin who is not a member."
    )
    limits: OrgLimits
    created_at: datetime


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: OrgRole
    joined_at: datetime


class MemberUpdate(StrictBody):
    role: OrgRole


class ModelLimitRead(BaseModel):
    model: str
    rpm: int | None
    tpm: int | None


class OrgConsumption(BaseModel):
    requests_this_minute: int
    tokens_this_minute: int
    requests_in_flight: int
    tokens_this_month: int
    spend_this_month_usd: float


class OrgLimitsRead(BaseModel):
    limits: OrgLimits
    models: list[ModelLimitRead] = Field(description="Per-model limits on top of the org's.")
    usage: OrgConsumption | None = Field(
        description="Counted by the limiter right now; null when its store cannot be reached."
    )
