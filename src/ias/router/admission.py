"""Which limits a request falls under, and what it reserves before it runs.

Tokens are reserved at admission — a prompt estimate plus the output cap — and settled with
the engine's real counts when the request ends, so tokens-per-minute, the monthly quota and
the monthly budget are never overrun by requests in flight. The estimate only has to be an
upper bound that is cheap to compute: the body's byte length ÷ 3 for the prompt (far above any
tokenizer's count for ordinary text, JSON punctuation included), and `max_tokens` times `n` — or,
when the client sets none, the model's context length capped at `DEFAULT_OUTPUT_RESERVE`.
"""

from __future__ import annotations

from ias.contracts.keys import KeyRecord
from ias.errors import QuotaExceeded, RateLimited
from ias.limits.headers import describe, format_reset
from ias.limits.types import MONTHLY_KINDS, Admission, Kind, Limit
from ias.router.catalog import Route
from ias.router.request import InferenceRequest

DEFAULT_OUTPUT_RESERVE = 1024
STOPPED_RETRY_SECONDS = 60  # a limit of zero lifts only when an operator changes it
BYTES_PER_TOKEN_BOUND = 3


def _limits(key: KeyRecord, model: str) -> list[tuple[str, Kind, int | None]]:
    org, own = f"org:{key.org_id}", f"key:{key.key_id}"
    wanted: list[tuple[str, Kind, int | None]] = [
        (own, Kind.REQUESTS, key.rpm_limit),
        (own, Kind.TOKENS, key.tpm_limit),
        (own, Kind.CONCURRENCY, key.concurrency_limit),
        (org, Kind.REQUESTS, key.org_rpm_limit),
        (org, Kind.TOKENS, key.org_tpm_limit),
        (org, Kind.CONCURRENCY, key.org_concurrency_limit),
        (org, Kind.MONTHLY_TOKENS, key.org_monthly_token_quota),
        (org, Kind.MONTHLY_MICROS, key.org_monthly_budget_micros),
    ]
    for name, rpm, tpm in key.model_limits:
        if name == model:
            wanted += [(f"{org}:model:{name}", Kind.REQUESTS, rpm)]
            wanted += [(f"{org}:model:{name}", Kind.TOKENS, tpm)]
    return wanted


class LimitsCache:
    """The limits of a key for a model, computed once per key record and model.

    Key records are immutable and replaced when their key changes, so a record is its own
    cache key and a stale entry can never be served.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[tuple[KeyRecord, str], tuple[Limit, ...]] = {}

    def __call__(self, key: KeyRecord, model: str) -> tuple[Limit, ...]:
        cached = self._entries.get((key, model))
        if cached is None:
            cached = limits_for(key, model)
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[(key, model)] = cached
        return cached


def limits_for(key: KeyRecord, model: str) -> tuple[Limit, ...]:
    limits = []
    for scope, kind, value in _limits(key, model):
        if value is None:
            continue
        if value <= 0:
            # A limit of zero is an operator's way to stop traffic, not a counter to keep.
            raise _stopped(scope, kind)
        limits.append(Limit(scope, kind, value))
    return tuple(limits)


def _stopped(scope: str, kind: Kind) -> RateLimited | QuotaExceeded:
    """The refusal for a limit of zero, with the headers any other refusal of `kind` carries."""
    headers = {"retry-after": str(STOPPED_RETRY_SECONDS)}
    unit = {Kind.REQUESTS: "requests", Kind.TOKENS: "tokens"}.get(kind)
    if unit is not None:
        headers |= {
            f"x-ratelimit-limit-{unit}": "0",
            f"x-ratelimit-remaining-{unit}": "0",
            f"x-ratelimit-reset-{unit}": format_reset(STOPPED_RETRY_SECONDS),
        }
    who = describe(scope)
    who = who[0].upper() + who[1:]
    if kind in MONTHLY_KINDS:
        return QuotaExceeded(
            "You exceeded your current quota, please check your plan and billing details. "
            f"{who} may not spend anything this month ({kind} limit is 0).",
            headers=headers,
        )
    return RateLimited(
        f"{who} may not make requests right now ({kind} limit is 0).",
        code="rate_limit_exceeded",
        headers=headers,
    )


def reservation(request: InferenceRequest, route: Route, body_bytes: int) -> tuple[int, int]:
    """(tokens, micro-dollars) to hold for this request until it is settled."""
    prompt = body_bytes // BYTES_PER_TOKEN_BOUND + 1
    if request.endpoint == "embeddings":
        output = 0
    else:
        cap = min(route.context_length or DEFAULT_OUTPUT_RESERVE, DEFAULT_OUTPUT_RESERVE)
        output = (request.max_tokens or cap) * request.n
    return prompt + output, route.prices.cost_micros(prompt, output, 0)


def admission_for(
    lease_id: str,
    limits: tuple[Limit, ...],
    request: InferenceRequest,
    route: Route,
    body_bytes: int,
) -> Admission:
    tokens, cost = reservation(request, route, body_bytes)
    return Admission(lease_id, limits, tokens, cost)
