"""A decision as OpenAI renders it: `x-ratelimit-*` headers, `retry-after`, and 429 bodies.

Header names and the reset format ("1s", "6m0s", "20ms": Go durations) are OpenAI's, so
clients and SDKs that read them work unchanged.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ias.errors import QuotaExceeded, RateLimited
from ias.limits.types import Decision, Kind, Limit


def format_reset(seconds: float) -> str:
    """A duration the way OpenAI (Go's time.Duration) writes it, to the millisecond."""
    millis = max(0, round(seconds * 1000))
    if millis < 1000:
        return f"{millis}ms" if millis else "0s"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    headers: dict[str, str] = {}
    for unit, state in (("requests", decision.requests), ("tokens", decision.tokens)):
        if state is not None:
            headers[f"x-ratelimit-limit-{unit}"] = str(state.limit)
            headers[f"x-ratelimit-remaining-{unit}"] = str(state.remaining)
            headers[f"x-ratelimit-reset-{unit}"] = format_reset(state.reset_seconds)
    if not decision.admitted:
        headers["retry-after"] = str(max(1, math.ceil(decision.retry_after_seconds)))
    return headers


def refusal(decision: Decision) -> RateLimited | QuotaExceeded:
    """The 429 a refused decision becomes, with OpenAI's code and wording and all headers."""
    limit = decision.refused_by
    if decision.admitted or limit is None:
        raise ValueError("only a refused decision can be rendered as a refusal")
    headers = rate_limit_headers(decision)
    if limit.kind is Kind.MONTHLY_TOKENS or limit.kind is Kind.MONTHLY_MICROS:
        return QuotaExceeded(_quota_message(decision, limit), headers=headers)
    return RateLimited(_rate_message(decision, limit), headers=headers)


def describe(scope: str) -> str:
    """A scope in words: key:K is "API key K", org:O:model:M is "model M in organization O"."""
    parts = scope.split(":")
    if len(parts) == 2 and parts[0] == "key":
        return f"API key {parts[1]}"
    if len(parts) == 2 and parts[0] == "org":
        return f"organization {parts[1]}"
    if len(parts) >= 4 and parts[0] == "org" and parts[2] == "model":
        return f"model {':'.join(parts[3:])} in organization {parts[1]}"
    return scope


def _rate_message(decision: Decision, limit: Limit) -> str:
    who = describe(limit.scope)
    wait = format_reset(decision.retry_after_seconds)
    if limit.kind is Kind.CONCURRENCY:
        return (
            f"Too many concurrent requests for {who}: Limit {limit.limit}. "
            f"Please try again in {wait}."
        )
    unit = "requests per min (RPM)" if limit.kind is Kind.REQUESTS else "tokens per min (TPM)"
    if decision.requested > limit.limit:
        return (
            f"Request too large for {who} on {unit}: Limit {limit.limit}, Requested "
            f"{decision.requested}. The input or output tokens must be reduced in order to run "
            "successfully."
        )
    return (
        f"Rate limit reached for {who} on {unit}: Limit {limit.limit}, Used {decision.used}, "
        f"Requested {decision.requested}. Please try again in {wait}."
    )


def _quota_message(decision: Decision, limit: Limit) -> str:
    who = describe(limit.scope)
    if limit.kind is Kind.MONTHLY_TOKENS:
        detail = (
            f"{who} has used {decision.used:,} of its {limit.limit:,} tokens this month and "
            f"this request reserves {decision.requested:,} more."
        )
    else:
        detail = (
            f"{who} has spent {_dollars(decision.used)} of its {_dollars(limit.limit)} monthly "
            f"budget and this request reserves {_dollars(decision.requested)} more."
        )
    return f"You exceeded your current quota, please check your plan and billing details. {detail}"


def _dollars(micros: int) -> str:
    amount = Decimal(micros).scaleb(-6)
    if micros % 10_000 == 0:
        return f"${amount:,.2f}"
    return f"${amount.normalize():,f}"
