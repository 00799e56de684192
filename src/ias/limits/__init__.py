"""Rate limits, concurrency leases, monthly quotas and budgets, shared by every router.

`RedisLimiter` (production) and `MemoryLimiter` (embedded, and the fallback) mean the same
thing; `ResilientLimiter` wraps the first with the failure policy of RELIABILITY_SECURITY.md;
`headers` renders decisions as OpenAI does. A request is admitted only if every limit that
applies allows it, and then counted against all of them in one atomic step.
"""

from ias.limits.headers import format_reset, rate_limit_headers, refusal
from ias.limits.memory import MemoryLimiter
from ias.limits.redis_limiter import RedisLimiter, redis_limiter_client
from ias.limits.resilient import ResilientLimiter
from ias.limits.types import (
    MAX_AMOUNT,
    Admission,
    Baseline,
    Decision,
    Kind,
    Limit,
    Limiter,
    LimiterStore,
    RateState,
    Ticket,
)

__all__ = [
    "MAX_AMOUNT",
    "Admission",
    "Baseline",
    "Decision",
    "Kind",
    "Limit",
    "Limiter",
    "LimiterStore",
    "MemoryLimiter",
    "RateState",
    "RedisLimiter",
    "ResilientLimiter",
    "Ticket",
    "format_reset",
    "rate_limit_headers",
    "redis_limiter_client",
    "refusal",
]
