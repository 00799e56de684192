"""Query parameters and response bodies of the usage reports."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class GroupBy(enum.StrEnum):
    MODEL = "model"
    API_KEY = "api_key"
    USER = "user"


class PlatformGroupBy(enum.StrEnum):
    MODEL = "model"
    API_KEY = "api_key"
    USER = "user"
    ORG = "org"


class UsageTotals(BaseModel):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int = Field(description="prompt_tokens + completion_tokens.")
    cached_tokens: int = Field(description="Prompt tokens served from the backend's cache.")
    cost_usd: float = Field(description="cost_micros / 1,000,000.")
    cost_micros: int = Field(description="The exact cost in millionths of a US dollar.")
    errors: int = Field(description="Requests that ended in an error.")


class UsageRow(UsageTotals):
    """One bucket, or one bucket of one group; only the grouped-by fields are present."""

    bucket: datetime = Field(description="Start of the bucket, UTC.")
    model: str | None = None
    api_key_id: uuid.UUID | None = None
    api_key_name: str | None = Field(default=None, description="Null once the key is deleted.")
    user_id: uuid.UUID | None = Field(default=None, description="The key's creator.")
    org_id: uuid.UUID | None = None
    org_name: str | None = Field(default=None, description="Null once the org is deleted.")


class UsageReportRead(BaseModel):
    data: list[UsageRow] = Field(
        description="Sorted by bucket, then group; buckets without usage are left out."
    )
    totals: UsageTotals = Field(description="The sums of every row of `data`.")
    start: datetime = Field(description="The requested start rounded down to a bucket edge.")
    end: datetime = Field(description="The requested end rounded up to a bucket edge (excluded).")
    granularity: str
    group_by: str | None
