"""The router's metrics helpers: each call moves exactly the series it names, the usage spool's
gauges follow a broker outage and its end, and the degraded gauge follows the limits store."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from prometheus_client import REGISTRY

from ias.limits import Kind, Limit, ResilientLimiter
from ias.router import metrics
from ias.router.balancer import BackendState
from tests.unit.limits.test_resilient import PROBE, FlakyPrimary, _admission
from tests.unit.router.test_usage_spool import FlakyPublisher, event, sink_in, wait_for


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_request_counts_once_with_its_status_and_duration() -> None:
    labels = {"model": "m-unit", "endpoint": "chat/completions"}
    before = value("ias_router_requests_total", **labels, status="200")
    observed = value("ias_router_request_duration_seconds_count", **labels)
    for _ in range(3):
        metrics.observe_request("m-unit", "chat/completions", 200, 0.02)
    metrics.observe_request("m-unit", "chat/completions", 502, 0.5)
    assert value("ias_router_requests_total", **labels, status="200") == before + 3
    assert value("ias_router_requests_total", **labels, status="502") >= 1
    assert value("ias_router_request_duration_seconds_count", **labels) == observed + 4
    assert value("ias_router_request_duration_seconds_bucket", **labels, le="0.025") >= 3


def test_tokens_ttft_refusals_and_upstream_errors_have_bounded_labels() -> None:
    backend = uuid.uuid4()
    metrics.count_tokens("m-unit", 7, 0)
    metrics.observe_ttft("m-unit", 0.05)
    metrics.count_refusal("limit_zero")
    metrics.upstream_error(backend, "timeout")
    metrics.upstream_retry(backend)
    assert value("ias_router_tokens_total", model="m-unit", kind="prompt") >= 7
    assert REGISTRY.get_sample_value(
        "ias_router_tokens_total", {"model": "m-unit", "kind": "completion"}
    ) in (None, 0.0)  # nothing reported, no series invented
    assert value("ias_router_time_to_first_token_seconds_count", model="m-unit") >= 1
    assert value("ias_router_limiter_refusals_total", reason="limit_zero") >= 1
    assert value("ias_router_upstream_errors_total", backend=str(backend), reason="timeout") == 1
    assert value("ias_router_upstream_retries_total", backend=str(backend)) == 1


def test_backend_up_follows_the_probe_and_forgets_removed_backends() -> None:
    up = BackendState(uuid.uuid4(), "http://a/v1", None, 1)
    down = BackendState(uuid.uuid4(), "http://b/v1", None, 1, probe_ok=False)
    metrics.report_backends([("m-unit", up), ("m-unit", down)])
    assert value("ias_router_backend_up", backend=str(up.id), model="m-unit") == 1
    assert value("ias_router_backend_up", backend=str(down.id), model="m-unit") == 0
    sample = {"backend": str(down.id), "model": "m-unit"}
    assert REGISTRY.get_sample_value("ias_router_backend_up", sample) == 0
    metrics.report_backends([("m-unit", up)])
    assert REGISTRY.get_sample_value("ias_router_backend_up", sample) is None


async def test_spool_gauges_follow_a_broker_outage(tmp_path: Path) -> None:
    publisher = FlakyPublisher()
    publisher.down = True
    sink = sink_in(tmp_path, publisher)
    sink._reporter = metrics.SpoolReporter(interval=0.0)
    failures = value("ias_usage_publish_failures_total")
    published = value("ias_usage_published_events_total")
    sink.open()
    sink.start()
    for n in range(5):
        sink.submit(event(n))
    await asyncio.sleep(0.3)
    await wait_for(lambda: value("ias_usage_spool_events") == 5)
    assert value("ias_usage_spool_bytes") > 0
    assert value("ias_usage_publish_lag_seconds") >= 0.2
    assert value("ias_usage_publish_failures_total") > failures
    publisher.down = False
    await wait_for(lambda: value("ias_usage_spool_events") == 0)
    assert value("ias_usage_publish_lag_seconds") == 0
    assert value("ias_usage_published_events_total") == published + 5
    await sink.close(drain_seconds=1)


async def test_degraded_is_1_while_the_limits_store_is_down() -> None:
    primary = FlakyPrimary()
    limiter = ResilientLimiter(primary, replicas=lambda: 1, probe_interval_seconds=PROBE)
    limiter.watch_degraded(metrics.limiter_degraded)
    rpm = Limit("key:metrics", Kind.REQUESTS, 100)
    try:
        assert value("ias_router_limiter_degraded") == 0
        primary.mode = "down"
        assert (await limiter.admit(_admission(rpm))).admitted
        assert value("ias_router_limiter_degraded") == 1
        primary.mode = "up"
        await asyncio.sleep(PROBE * 1.5)
        assert (await limiter.admit(_admission(rpm))).admitted
        assert value("ias_router_limiter_degraded") == 0
    finally:
        await limiter.close()
