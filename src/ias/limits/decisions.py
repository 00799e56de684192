"""Turning counter values into a `Decision`; shared so both limiters answer identically."""

from __future__ import annotations

from collections.abc import Sequence

from ias.limits.periods import month_end
from ias.limits.types import Admission, Decision, Kind, Limit, RateState, Ticket

# A lease frees up when some request finishes, which no clock predicts; a short hint keeps
# clients from hammering without making them wait the lease's whole lifetime.
CONCURRENCY_RETRY_SECONDS = 1.0


def requested(limit: Limit, admission: Admission) -> int:
    """How many units of `limit`'s counter this admission takes."""
    kind = limit.kind
    if kind is Kind.TOKENS or kind is Kind.MONTHLY_TOKENS:
        return admission.tokens
    if kind is Kind.MONTHLY_MICROS:
        return admission.cost_micros
    return 1


def decide(
    admission: Admission,
    used: Sequence[int],
    *,
    refused: int | None,
    now: float,
    window: int,
    window_seconds: int,
    month: str,
) -> Decision:
    """The decision for `admission` given each limit's counter (`used`, after it if admitted)."""
    reset = (window + 1) * window_seconds - now
    requests: RateState | None = None
    tokens: RateState | None = None
    allowances: list[tuple[Limit, int]] = []
    for limit, count in zip(admission.limits, used, strict=True):
        kind = limit.kind
        remaining = max(0, limit.limit - count)
        if kind is Kind.REQUESTS:
            if requests is None or remaining < requests.remaining:
                requests = RateState(limit.limit, remaining, reset)
        elif kind is Kind.TOKENS:
            if tokens is None or remaining < tokens.remaining:
                tokens = RateState(limit.limit, remaining, reset)
        elif kind is not Kind.CONCURRENCY:
            allowances.append((limit, remaining))
    if refused is None:
        ticket = Ticket(
            admission.lease_id,
            admission.limits,
            admission.tokens,
            admission.cost_micros,
            window,
            month,
        )
        return Decision(True, None, 0.0, requests, tokens, ticket, allowances=tuple(allowances))
    limit = admission.limits[refused]
    return Decision(
        False,
        limit,
        _retry_after(limit.kind, reset, now, month),
        requests,
        tokens,
        None,
        used=used[refused],
        requested=requested(limit, admission),
        allowances=tuple(allowances),
    )


def _retry_after(kind: Kind, reset: float, now: float, month: str) -> float:
    if kind is Kind.CONCURRENCY:
        return CONCURRENCY_RETRY_SECONDS
    if kind is Kind.MONTHLY_TOKENS or kind is Kind.MONTHLY_MICROS:
        return max(month_end(month) - now, 0.001)
    return max(reset, 0.001)


def unlimited(admission: Admission, now: float, window_seconds: int, month: str) -> Decision:
    """An admission with no limits: always admitted, nothing counted, no store touched."""
    window = int(now // window_seconds)
    return decide(
        admission,
        (),
        refused=None,
        now=now,
        window=window,
        window_seconds=window_seconds,
        month=month,
    )
