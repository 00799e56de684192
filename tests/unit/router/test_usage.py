from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from ias.contracts.keys import KeyRecord
from ias.contracts.usage import Prices, UsageEvent
from ias.models import ModelKind
from ias.router.catalog import Route
from ias.router.usage import MemoryUsageSink, Meter

TS = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def key_record(user_id: uuid.UUID | None = None) -> KeyRecord:
    return KeyRecord(
        key_id=uuid.uuid4(),
        key_hash="h" * 64,
        org_id=uuid.uuid4(),
        user_id=user_id,
        models=None,
        expires_at=None,
        rpm_limit=None,
        tpm_limit=None,
        org_rpm_limit=None,
        org_tpm_limit=None,
        org_monthly_token_quota=None,
        org_monthly_budget_micros=None,
    )


def route(prices: Prices) -> Route:
    return Route(
        model_id=uuid.uuid4(),
        name="public-chat",
        kind=ModelKind.CHAT,
        upstream_model="vendor/upstream-chat",
        context_length=8192,
        prices=prices,
        created=1_700_000_000,
        backends=(),
    )


def meter(**fields: Any) -> Meter:
    return Meter(uuid.uuid4(), TS, "chat/completions", True, **fields)


def test_meter_takes_the_reported_counts() -> None:
    m = meter()
    m.saw_usage(
        {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 64},
        }
    )
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (120, 30, 64)


@pytest.mark.parametrize("usage", [None, "12", 12, [12], {}])
def test_usage_that_is_not_a_report_changes_nothing(usage: Any) -> None:
    m = meter(prompt_tokens=5, completion_tokens=6, cached_tokens=1)
    m.saw_usage(usage)
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (5, 6, 1)


@pytest.mark.parametrize("bad", [-1, True, "7", 7.5, None, [7]])
def test_nonsense_counts_do_not_replace_good_ones(bad: Any) -> None:
    m = meter(prompt_tokens=5, completion_tokens=6, cached_tokens=1)
    m.saw_usage(
        {
            "prompt_tokens": bad,
            "completion_tokens": bad,
            "prompt_tokens_details": {"cached_tokens": bad},
        }
    )
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (5, 6, 1)


def test_report_without_details_keeps_the_cached_count() -> None:
    m = meter(cached_tokens=4)
    m.saw_usage({"prompt_tokens": 9, "completion_tokens": 2, "prompt_tokens_details": None})
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (9, 2, 4)


def test_zero_is_a_valid_count() -> None:
    m = meter(prompt_tokens=5, completion_tokens=6)
    m.saw_usage({"prompt_tokens": 0, "completion_tokens": 0})
    assert (m.prompt_tokens, m.completion_tokens) == (0, 0)


def test_first_token_time_is_kept_from_the_first_call() -> None:
    m = meter()
    m.saw_first_token()
    first = m.first_token_at
    m.saw_first_token()
    assert first is not None
    assert m.first_token_at == first


def test_event_carries_who_what_how_much_and_how_long() -> None:
    key = key_record(user_id=uuid.uuid4())
    prices = Prices(input_micros_per_mtok=2_000_000, output_micros_per_mtok=6_000_000)
    backend_id = uuid.uuid4()
    started = time.perf_counter() - 2.0
    m = meter(started=started, first_token_at=started + 0.125, backend_id=backend_id)
    m.saw_usage({"prompt_tokens": 1_000, "completion_tokens": 500})

    event = m.event(key, route(prices))

    assert isinstance(event, UsageEvent)
    assert event.event_id == m.event_id
    assert event.ts == TS
    assert (event.org_id, event.user_id, event.api_key_id) == (key.org_id, key.user_id, key.key_id)
    assert event.model == "public-chat"
    assert event.backend_id == backend_id
    assert event.endpoint == "chat/completions"
    assert (event.http_status, event.error_type) == (200, None)
    assert (event.prompt_tokens, event.completion_tokens, event.cached_tokens) == (1_000, 500, 0)
    # 1000 * $2/M + 500 * $6/M = $0.005 = 5000 micro-dollars.
    assert event.cost_micros == 5_000
    assert event.ttft_ms == 125
    assert 2_000 <= event.latency_ms < 2_000 + 60_000
    assert event.stream is True
    assert event.partial is False


def test_event_of_a_request_without_tokens_has_no_ttft() -> None:
    event = meter().event(key_record(), route(Prices(1, 1)))
    assert event.ttft_ms is None
    assert event.user_id is None
    assert event.backend_id is None
    assert (event.prompt_tokens, event.completion_tokens, event.cost_micros) == (0, 0, 0)
    assert event.latency_ms >= 0


def test_event_of_a_failed_partial_request_bills_what_was_generated() -> None:
    m = meter()
    m.saw_usage({"prompt_tokens": 10, "completion_tokens": 3})
    m.failed(502, "upstream_stream_error")
    m.partial = True
    prices = Prices(input_micros_per_mtok=1_000_000, output_micros_per_mtok=1_000_000)
    event = m.event(key_record(), route(prices))
    assert (event.http_status, event.error_type, event.partial) == (
        502,
        "upstream_stream_error",
        True,
    )
    assert event.cost_micros == 13


def test_cached_tokens_are_billed_at_the_cached_price() -> None:
    prices = Prices(
        input_micros_per_mtok=1_000_000,
        output_micros_per_mtok=4_000_000,
        cached_input_micros_per_mtok=100_000,
    )
    m = meter()
    m.saw_usage(
        {
            "prompt_tokens": 1_000,
            "completion_tokens": 0,
            "prompt_tokens_details": {"cached_tokens": 800},
        }
    )
    # 200 * $1/M + 800 * $0.1/M = 200 + 80 micro-dollars.
    assert m.event(key_record(), route(prices)).cost_micros == 280


def test_memory_sink_keeps_the_most_recent_events_and_counts_all() -> None:
    sink = MemoryUsageSink(capacity=3)
    events = [meter().event(key_record(), route(Prices(0, 0))) for _ in range(5)]
    for event in events:
        sink.submit(event)
    assert list(sink.events) == events[-3:]
    assert sink.submitted == 5
