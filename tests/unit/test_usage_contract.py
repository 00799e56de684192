from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ias.contracts.usage import TOKENS_PER_PRICE_UNIT, VERSION, Prices, UsageEvent

EVENT = UsageEvent(
    event_id=uuid.UUID("0190f5a2-7b1c-7cde-8f00-0123456789ab"),
    ts=datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
    org_id=uuid.uuid4(),
    user_id=uuid.uuid4(),
    api_key_id=uuid.uuid4(),
    model="llama-8b",
    backend_id=uuid.uuid4(),
    endpoint="chat/completions",
    http_status=200,
    error_type=None,
    prompt_tokens=1_234,
    completion_tokens=567,
    cached_tokens=1_024,
    cost_micros=890,
    latency_ms=4_321,
    ttft_ms=87,
    stream=True,
    partial=False,
)


def encoded(**changes: Any) -> bytes:
    body = orjson.loads(EVENT.encode())
    body.update(changes)
    return orjson.dumps(body)


# --- UsageEvent -------------------------------------------------------------------------------


def test_event_survives_encode_and_decode() -> None:
    assert UsageEvent.decode(EVENT.encode()) == EVENT


def test_event_without_user_backend_or_ttft_survives_encode_and_decode() -> None:
    event = replace(
        EVENT,
        user_id=None,
        backend_id=None,
        ttft_ms=None,
        http_status=502,
        error_type="upstream_error",
        partial=True,
    )
    assert UsageEvent.decode(event.encode()) == event


def test_encoded_event_is_versioned_json_with_string_ids() -> None:
    body = orjson.loads(EVENT.encode())
    assert body["v"] == VERSION == 1
    assert body["event_id"] == str(EVENT.event_id)
    assert body["ts"] == "2025-03-01T12:30:05.123456+00:00"
    assert set(body) == {"v", *UsageEvent.__dataclass_fields__}


def test_timestamp_in_another_zone_keeps_its_instant() -> None:
    event = replace(EVENT, ts=datetime(2025, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))))
    decoded = UsageEvent.decode(event.encode())
    assert decoded.ts == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("version", [0, 2, "1", None, [1]])
def test_event_of_another_version_is_refused(version: Any) -> None:
    with pytest.raises(ValueError, match="version-1"):
        UsageEvent.decode(encoded(v=version))


def test_event_without_a_version_is_refused() -> None:
    body = orjson.loads(EVENT.encode())
    del body["v"]
    with pytest.raises(ValueError, match="version-1"):
        UsageEvent.decode(orjson.dumps(body))


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"not json",
        b"{",
        b"[]",
        b"[1, 2]",
        b"null",
        b"42",
        b'"event"',
        b'{"v": 1}',
    ],
)
def test_message_that_is_not_an_event_is_refused(message: bytes) -> None:
    with pytest.raises(ValueError, match="usage event"):
        UsageEvent.decode(message)


@pytest.mark.parametrize(
    "field", ["event_id", "ts", "org_id", "api_key_id", "model", "prompt_tokens", "partial"]
)
def test_event_missing_a_field_is_refused(field: str) -> None:
    body = orjson.loads(EVENT.encode())
    del body[field]
    with pytest.raises(ValueError, match="malformed"):
        UsageEvent.decode(orjson.dumps(body))


@pytest.mark.parametrize(
    "changes",
    [
        {"event_id": "not-a-uuid"},
        {"org_id": 12},
        {"api_key_id": None},
        {"user_id": "zzz"},
        {"backend_id": ["x"]},
        {"ts": "yesterday"},
        {"ts": 1_700_000_000},
        {"surprise": 1},
    ],
)
def test_event_with_a_malformed_field_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the contract is "ValueError", any message
        UsageEvent.decode(encoded(**changes))


uuids = st.uuids()
counts = st.integers(min_value=0, max_value=2**53)
events = st.builds(
    UsageEvent,
    event_id=uuids,
    ts=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    org_id=uuids,
    user_id=st.none() | uuids,
    api_key_id=uuids,
    model=st.text(min_size=1, max_size=40),
    backend_id=st.none() | uuids,
    endpoint=st.sampled_from(["chat/completions", "completions", "embeddings"]),
    http_status=st.integers(min_value=100, max_value=599),
    error_type=st.none() | st.text(max_size=30),
    prompt_tokens=counts,
    completion_tokens=counts,
    cached_tokens=counts,
    cost_micros=counts,
    latency_ms=counts,
    ttft_ms=st.none() | counts,
    stream=st.booleans(),
    partial=st.booleans(),
)


@given(events)
def test_every_event_survives_encode_and_decode(event: UsageEvent) -> None:
    assert UsageEvent.decode(event.encode()) == event


# --- Prices -----------------------------------------------------------------------------------


def exact_cost(prices: Prices, prompt: int, completion: int, cached: int) -> Fraction:
    cached = min(cached, prompt)
    cached_price = prices.cached_input_micros_per_mtok
    if cached_price is None:
        cached_price = prices.input_micros_per_mtok
    return Fraction(
        (prompt - cached) * prices.input_micros_per_mtok
        + cached * cached_price
        + completion * prices.output_micros_per_mtok,
        TOKENS_PER_PRICE_UNIT,
    )


def round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


@pytest.mark.parametrize(
    ("prompt_tokens", "expected"),
    [
        (0, 0),
        (499_999, 0),
        (500_000, 1),  # exactly half a micro-dollar rounds up
        (1_499_999, 1),
        (1_500_000, 2),
        (2_500_000, 3),  # half up, not half to even
        (3_500_000, 4),
    ],
)
def test_cost_rounds_half_up_to_whole_micro_dollars(prompt_tokens: int, expected: int) -> None:
    prices = Prices(input_micros_per_mtok=1, output_micros_per_mtok=0)
    assert prices.cost_micros(prompt_tokens, 0, 0) == expected


def test_cost_of_a_typical_request() -> None:
    # $0.15/M input, $0.075/M cached input, $0.60/M output.
    prices = Prices(150_000, 600_000, 75_000)
    # 600 * 0.15 + 400 * 0.075 + 200 * 0.60 = 90 + 30 + 120 micro-dollars.
    assert prices.cost_micros(1_000, 200, 400) == 240


def test_cached_tokens_cost_the_input_price_when_no_cached_price_is_set() -> None:
    prices = Prices(input_micros_per_mtok=3_000_000, output_micros_per_mtok=0)
    assert prices.cost_micros(1_000, 0, 600) == prices.cost_micros(1_000, 0, 0) == 3_000


def test_free_cached_tokens_cost_nothing() -> None:
    prices = Prices(1_000_000, 0, cached_input_micros_per_mtok=0)
    assert prices.cost_micros(1_000, 0, 1_000) == 0
    assert prices.cost_micros(1_000, 0, 250) == 750


def test_more_cached_than_prompt_tokens_is_capped_at_the_prompt() -> None:
    prices = Prices(1_000_000, 0, cached_input_micros_per_mtok=0)
    assert prices.cost_micros(100, 0, 5_000) == 0
    prices = Prices(1_000_000, 0, cached_input_micros_per_mtok=2_000_000)
    assert prices.cost_micros(100, 0, 5_000) == 200


def test_free_model_costs_nothing_however_large() -> None:
    assert Prices(0, 0, 0).cost_micros(10**12, 10**12, 10**11) == 0


prices_strategy = st.builds(
    Prices,
    input_micros_per_mtok=st.integers(min_value=0, max_value=10**9),
    output_micros_per_mtok=st.integers(min_value=0, max_value=10**9),
    cached_input_micros_per_mtok=st.none() | st.integers(min_value=0, max_value=10**9),
)
token_counts = st.integers(min_value=0, max_value=10**9)


@given(prices_strategy, token_counts, token_counts, token_counts)
def test_cost_is_the_exact_price_rounded_half_up(
    prices: Prices, prompt: int, completion: int, cached: int
) -> None:
    cost = prices.cost_micros(prompt, completion, cached)
    assert type(cost) is int
    assert cost == round_half_up(exact_cost(prices, prompt, completion, cached))
    assert abs(cost - exact_cost(prices, prompt, completion, cached)) <= Fraction(1, 2)


@given(prices_strategy, token_counts, token_counts, token_counts, st.integers(1, 10**6))
def test_cost_never_falls_when_more_tokens_are_used(
    prices: Prices, prompt: int, completion: int, cached: int, more: int
) -> None:
    cost = prices.cost_micros(prompt, completion, cached)
    assert prices.cost_micros(prompt + more, completion, cached) >= cost
    assert prices.cost_micros(prompt, completion + more, cached) >= cost


@given(prices_strategy, token_counts, token_counts, token_counts, st.integers(1, 10**6))
def test_more_cached_tokens_never_cost_more_when_the_cached_price_is_lower(
    prices: Prices, prompt: int, completion: int, cached: int, more: int
) -> None:
    cached_price = prices.cached_input_micros_per_mtok
    if cached_price is None or cached_price > prices.input_micros_per_mtok:
        prices = replace(prices, cached_input_micros_per_mtok=prices.input_micros_per_mtok // 2)
    cost = prices.cost_micros(prompt, completion, cached)
    assert prices.cost_micros(prompt, completion, cached + more) <= cost
