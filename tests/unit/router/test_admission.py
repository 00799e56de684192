"""Which limits apply to a request, what it reserves, and the per-record limits cache."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from ias.contracts.keys import KeyRecord
from ias.contracts.usage import Prices
from ias.errors import RateLimited
from ias.limits.types import Kind
from ias.models import ModelKind
from ias.router.admission import DEFAULT_OUTPUT_RESERVE, LimitsCache, limits_for, reservation
from ias.router.catalog import Route
from ias.router.request import parse_request

ORG, KEY = uuid.uuid4(), uuid.uuid4()


def record(**fields: object) -> KeyRecord:
    values: dict[str, object] = {
        "key_id": KEY,
        "key_hash": "h",
        "org_id": ORG,
        "user_id": None,
        "models": None,
        "expires_at": None,
        "rpm_limit": None,
        "tpm_limit": None,
        "org_rpm_limit": None,
        "org_tpm_limit": None,
        "org_monthly_token_quota": None,
        "org_monthly_budget_micros": None,
    }
    values.update(fields)
    return KeyRecord(**values)  # type: ignore[arg-type]


def route(context_length: int | None = 8192) -> Route:
    return Route(
        uuid.uuid4(), "m", ModelKind.CHAT, "up", context_length, Prices(1_000_000, 2_000_000), 0, ()
    )


def test_only_configured_limits_apply_with_their_scopes() -> None:
    limits = limits_for(
        record(
            rpm_limit=5,
            org_tpm_limit=900,
            org_monthly_budget_micros=10,
            model_limits=(("m", 2, None), ("x", 1, 1)),
        ),
        "m",
    )
    assert {(limit.scope, limit.kind, limit.limit) for limit in limits} == {
        (f"key:{KEY}", Kind.REQUESTS, 5),
        (f"org:{ORG}", Kind.TOKENS, 900),
        (f"org:{ORG}", Kind.MONTHLY_MICROS, 10),
        (f"org:{ORG}:model:m", Kind.REQUESTS, 2),
    }


def test_a_zero_limit_refuses_at_once() -> None:
    with pytest.raises(RateLimited) as refused:
        limits_for(record(org_rpm_limit=0), "m")
    assert refused.value.headers["retry-after"] == "60"


def test_the_cache_reuses_a_record_and_follows_a_new_one() -> None:
    cache = LimitsCache()
    first = record(rpm_limit=5)
    assert cache(first, "m") is cache(first, "m")
    changed = dataclasses.replace(first, rpm_limit=6)
    assert cache(changed, "m")[0].limit == 6


def test_reservation_covers_prompt_and_output() -> None:
    raw = b'{"model":"m","messages":[{"role":"user","content":"hello there"}],"max_tokens":7,"n":2}'
    tokens, cost = reservation(parse_request(raw, "chat/completions"), route(), len(raw))
    assert tokens == len(raw) // 3 + 1 + 14
    assert cost == ((len(raw) // 3 + 1) * 1_000_000 + 14 * 2_000_000 + 500_000) // 1_000_000


def test_without_max_tokens_the_output_reserve_is_capped() -> None:
    raw = b'{"model":"m","messages":[]}'
    tokens, _ = reservation(parse_request(raw, "chat/completions"), route(100_000), len(raw))
    assert tokens == len(raw) // 3 + 1 + DEFAULT_OUTPUT_RESERVE
    small, _ = reservation(parse_request(raw, "chat/completions"), route(300), len(raw))
    assert small == len(raw) // 3 + 1 + 300
