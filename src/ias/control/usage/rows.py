"""What a usage report is made of: the dimension it groups by, and exact counters per line.

Counters are integers all the way: `cost_micros` is summed as an integer and `cost_usd` is
derived from that sum with `Decimal`, so a report never carries float rounding.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ias.models import Granularity

# A micro-dollar is 10**-6 USD; scaling the exponent is exact whatever the amount.
MICROS_EXPONENT = -6


class Dimension(enum.StrEnum):
    MODEL = "model"
    API_KEY = "api_key"
    USER = "user"
    ORG = "org"


@dataclass(frozen=True, slots=True)
class Counters:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_micros: int = 0
    errors: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> Decimal:
        return Decimal(self.cost_micros).scaleb(MICROS_EXPONENT)

    def __add__(self, other: Counters) -> Counters:
        return Counters(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cost_micros=self.cost_micros + other.cost_micros,
            errors=self.errors + other.errors,
        )


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One bucket, or one (bucket, group) pair when the report is grouped.

    `group` is the model name, key, user or org id; `label` names a key or org for display
    (null once it is deleted, and for the other dimensions).
    """

    bucket: datetime
    counters: Counters
    group: str | uuid.UUID | None = None
    label: str | None = None


# The fields that name a line's group, on the wire and in CSV: the id, then its display name.
GROUP_FIELDS: dict[Dimension, tuple[str, ...]] = {
    Dimension.MODEL: ("model",),
    Dimension.API_KEY: ("api_key_id", "api_key_name"),
    Dimension.USER: ("user_id",),
    Dimension.ORG: ("org_id", "org_name"),
}


def group_fields(line: UsageLine, dimension: Dimension | None) -> dict[str, str | uuid.UUID | None]:
    if dimension is None:
        return {}
    return dict(zip(GROUP_FIELDS[dimension], (line.group, line.label), strict=False))


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    granularity: Granularity
    dimension: Dimension | None
    lines: list[UsageLine] = field(default_factory=list)

    @property
    def totals(self) -> Counters:
        return sum((line.counters for line in self.lines), Counters())
