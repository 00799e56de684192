"""What the router knows about an API key once it has been resolved (version 1).

Everything the hot path needs to admit a request without touching the database: who the key
belongs to, which models it may use, and the limits of the key and of its org.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: uuid.UUID
    key_hash: str
    org_id: uuid.UUID
    user_id: uuid.UUID | None
    models: frozenset[str] | None  # None: every model
    expires_at: datetime | None
    rpm_limit: int | None
    tpm_limit: int | None
    org_rpm_limit: int | None
    org_tpm_limit: int | None
    org_monthly_token_quota: int | None
    org_monthly_budget_micros: int | None
    concurrency_limit: int | None = None
    org_concurrency_limit: int | None = None
    # Per-model limits inside the org: model name → (requests/min, tokens/min).
    model_limits: tuple[tuple[str, int | None, int | None], ...] = ()

    def allows(self, model: str) -> bool:
        return self.models is None or model in self.models
