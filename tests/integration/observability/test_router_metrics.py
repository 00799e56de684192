"""`/metrics` of a running router, scraped over HTTP before and after real traffic: every
request is counted once under its public model (or "unknown"), with its status; refusals,
upstream failures, backend health and the usage spool show up under their own names."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.integration.observability.conftest import (
    SPARE_MODEL,
    Observed,
    Samples,
    scrape,
    value,
)
from tests.integration.router.limits_support import add_tenant

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
CHAT = {"model": "chat-model", "endpoint": "chat/completions"}


def wait_for_metric(observed: Observed, check: object, seconds: float = 10.0) -> Samples:
    deadline = time.monotonic() + seconds
    while True:
        samples = scrape(observed.url)
        if check(samples):  # type: ignore[operator]
            return samples
        assert time.monotonic() < deadline, "the metric did not move in time"
        time.sleep(0.1)


def test_a_chat_counts_its_status_duration_and_tokens(observed: Observed) -> None:
    before = scrape(observed.url)
    response = observed.chat(max_tokens=5)
    assert response.status_code == 200
    usage = response.json()["usage"]
    after = scrape(observed.url)
    requests = "ias_router_requests_total"
    assert (
        value(after, requests, **CHAT, status="200")
        == value(before, requests, **CHAT, status="200") + 1
    )
    durations = "ias_router_request_duration_seconds_count"
    assert value(after, durations, **CHAT) == value(before, durations, **CHAT) + 1
    tokens = "ias_router_tokens_total"
    for kind, reported in (("prompt", "prompt_tokens"), ("completion", "completion_tokens")):
        moved = value(after, tokens, model="chat-model", kind=kind)
        assert moved == value(before, tokens, model="chat-model", kind=kind) + usage[reported]


def test_a_stream_records_its_time_to_first_token(observed: Observed) -> None:
    ttft = "ias_router_time_to_first_token_seconds_count"
    before = scrape(observed.url)
    with httpx.stream(
        "POST",
        f"{observed.url}/v1/chat/completions",
        json={
            "model": "chat-model",
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 4,
            "stream": True,
        },
        headers={"authorization": f"Bearer {observed.tenant.key}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert [line for line in response.iter_lines() if line][-1] == "data: [DONE]"
    after = scrape(observed.url)
    assert value(after, ttft, model="chat-model") == value(before, ttft, model="chat-model") + 1
    assert value(after, "ias_router_time_to_first_token_seconds_sum", model="chat-model") > 0


def test_an_unknown_model_is_counted_as_unknown(observed: Observed) -> None:
    labels = {"model": "unknown", "endpoint": "chat/completions", "status": "404"}
    before = value(scrape(observed.url), "ias_router_requests_total", **labels)
    response = observed.chat(model="no-such-model-" + str(time.time_ns()))
    assert response.status_code == 404
    after = scrape(observed.url)
    assert value(after, "ias_router_requests_total", **labels) == before + 1
    assert not any("no-such-model" in str(labels) for _, labels in after)


def test_refusals_are_counted_by_reason(observed: Observed) -> None:
    one_a_minute = asyncio.run(
        add_tenant(observed.database_url, observed.secret, key={"rpm_limit": 1})
    )
    stopped = asyncio.run(add_tenant(observed.database_url, observed.secret, key={"rpm_limit": 0}))
    refusals = "ias_router_limiter_refusals_total"
    before = scrape(observed.url)
    statuses = [observed.chat(one_a_minute, max_tokens=1).status_code for _ in range(2)]
    assert observed.chat(stopped, max_tokens=1).status_code == 429
    after = scrape(observed.url)
    assert statuses == [200, 429]
    assert (
        value(after, refusals, reason="requests") == value(before, refusals, reason="requests") + 1
    )
    assert (
        value(after, refusals, reason="limit_zero")
        == value(before, refusals, reason="limit_zero") + 1
    )
    requests = "ias_router_requests_total"
    assert (
        value(after, requests, **CHAT, status="429")
        == value(before, requests, **CHAT, status="429") + 2
    )


def test_an_upstream_failure_is_counted_against_its_backend(observed: Observed) -> None:
    backend = str(observed.chat_backend)
    errors = "ias_router_upstream_errors_total"
    before = scrape(observed.url)
    assert observed.chat(mock={"fail_status": 500}).status_code == 502
    assert observed.chat(mock={"fail_status": 400}).status_code == 400
    after = scrape(observed.url)
    for reason in ("status_5xx", "status_4xx"):
        assert (
            value(after, errors, backend=backend, reason=reason)
            == value(before, errors, backend=backend, reason=reason) + 1
        )
    requests = "ias_router_requests_total"
    assert (
        value(after, requests, **CHAT, status="502")
        == value(before, requests, **CHAT, status="502") + 1
    )


def test_the_usage_spool_is_published_and_empties(observed: Observed) -> None:
    published = "ias_usage_published_events_total"
    before = value(scrape(observed.url), published)
    for _ in range(3):
        assert observed.chat(max_tokens=1).status_code == 200
    after = wait_for_metric(observed, lambda s: value(s, published) >= before + 3)
    assert value(after, published) == before + 3
    drained = wait_for_metric(observed, lambda s: value(s, "ias_usage_spool_events") == 0)
    assert value(drained, "ias_usage_publish_lag_seconds") == 0
    assert ("ias_usage_spool_bytes", frozenset()) in drained


def test_backend_up_goes_to_0_when_its_engine_stops(observed: Observed) -> None:
    labels = {"backend": str(observed.spare_backend), "model": SPARE_MODEL}
    wait_for_metric(observed, lambda s: value(s, "ias_router_backend_up", **labels) == 1)
    observed.spare_engine.stop()
    wait_for_metric(
        observed,
        lambda s: (
            ("ias_router_backend_up", frozenset(labels.items())) in s
            and value(s, "ias_router_backend_up", **labels) == 0
        ),
    )
    chat = {"backend": str(observed.chat_backend), "model": "chat-model"}
    assert value(scrape(observed.url), "ias_router_backend_up", **chat) == 1
