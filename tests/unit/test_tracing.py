from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ias.contracts.usage import UsageEvent
from ias.kit import tracing
from ias.kit.logging import JsonFormatter
from ias.kit.requestid import RequestIdMiddleware, span_name
from ias.router.usage import Meter, annotate_span

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure_tracing("ias-test", None, exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def _finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())


class _Seen:
    """An ASGI app that answers `status` and remembers the trace context it ran in."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.trace: tracing.TraceContext | None = None
        self.log_line: dict[str, Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.trace = tracing.current_trace()
        record = logging.LogRecord("ias.test", logging.INFO, __file__, 1, "inside", None, None)
        self.log_line = orjson.loads(JsonFormatter().format(record))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, headers=headers or {})


# --- the traceparent header -----------------------------------------------------------------


def test_a_valid_traceparent_is_parsed_and_written_back_the_same() -> None:
    context = tracing.parse_traceparent(CLIENT_TRACEPARENT)
    assert context == tracing.TraceContext(CLIENT_TRACE, "00f067aa0ba902b7", sampled=True)
    assert context.traceparent == CLIENT_TRACEPARENT
    unsampled = tracing.parse_traceparent(CLIENT_TRACEPARENT[:-2] + "00")
    assert unsampled is not None
    assert unsampled.sampled is False


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{CLIENT_TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{CLIENT_TRACE}-00f067aa0ba902b7-01",  # forbidden version
        f"00-{CLIENT_TRACE.upper()}-00f067aa0ba902b7-01",  # upper case
        f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01-extra",  # version 00 has nothing more
        b"\xff\xfe",
        12,
        "00-" + "a" * 300,
    ],
)
def test_invalid_traceparents_are_ignored(value: object) -> None:
    assert tracing.parse_traceparent(value) is None


def test_a_later_version_is_read_for_the_fields_it_shares() -> None:
    context = tracing.parse_traceparent(f"01-{CLIENT_TRACE}-00f067aa0ba902b7-01-future")
    assert context is not None
    assert context.trace_id == CLIENT_TRACE


def test_new_traces_and_children_have_fresh_ids() -> None:
    first, second = tracing.new_trace(), tracing.new_trace()
    assert first.trace_id != second.trace_id
    assert tracing.parse_traceparent(first.traceparent) == first
    child = first.child()
    assert child.trace_id == first.trace_id
    assert child.span_id != first.span_id


# --- requests without span export -------------------------------------------------------------


async def test_without_export_a_request_continues_the_callers_trace() -> None:
    seen = _Seen()
    response = await _get(
        RequestIdMiddleware(seen, ("/v1",)), "/v1/x", {"traceparent": CLIENT_TRACEPARENT}
    )
    assert response.status_code == 200
    assert seen.trace is not None
    assert seen.trace.trace_id == CLIENT_TRACE
    assert seen.trace.span_id != "00f067aa0ba902b7"  # the router's own place in the trace
    assert seen.log_line["trace_id"] == CLIENT_TRACE
    assert seen.log_line["request_id"] == response.headers["x-request-id"]
    assert tracing.current_trace() is None  # nothing leaks past the request


async def test_without_export_a_request_without_a_trace_starts_one() -> None:
    seen = _Seen()
    await _get(RequestIdMiddleware(seen), "/api/x", {"traceparent": "not-a-trace"})
    assert seen.trace is not None
    assert tracing.parse_traceparent(seen.trace.traceparent) == seen.trace


def test_a_process_without_export_never_imports_the_sdk() -> None:
    code = (
        "import sys, asyncio, httpx\n"
        "from ias.kit.requestid import RequestIdMiddleware\n"
        "from ias.kit.logging import configure_logging\n"
        "import ias.router.handler, ias.analytics.consumer\n"
        "async def app(scope, receive, send):\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b''})\n"
        "async def main():\n"
        "    transport = httpx.ASGITransport(app=RequestIdMiddleware(app, ('/v1',)))\n"
        "    async with httpx.AsyncClient(transport=transport, base_url='http://t') as c:\n"
        "        await c.post('/v1/chat/completions')\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# --- requests with span export ----------------------------------------------------------------


async def test_a_traced_request_gets_a_server_span_under_the_callers_span(
    spans: InMemorySpanExporter,
) -> None:
    seen = _Seen()
    await _get(
        RequestIdMiddleware(seen, ("/v1",)),
        "/v1/chat/completions",
        {"traceparent": CLIENT_TRACEPARENT},
    )
    (span,) = _finished(spans)
    assert span.kind is SpanKind.SERVER
    assert span.name == "POST /v1/chat/completions"
    assert format(span.context.trace_id, "032x") == CLIENT_TRACE
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.attributes["http.response.status_code"] == 200
    # What the request ran under (and sent to backends) is this span.
    assert seen.trace is not None
    assert seen.trace.span_id == format(span.context.span_id, "016x")
    assert span.resource.attributes["service.name"] == "ias-test"


async def test_a_request_without_a_trace_gets_a_root_span(spans: InMemorySpanExporter) -> None:
    seen = _Seen(status=503)
    await _get(RequestIdMiddleware(seen, ("/v1",)), "/v1/embeddings")
    (span,) = _finished(spans)
    assert span.parent is None
    assert span.status.status_code is StatusCode.ERROR
    assert seen.trace is not None
    assert seen.trace.trace_id == format(span.context.trace_id, "032x")


async def test_only_traced_paths_get_spans_and_unknown_paths_do_not_name_them(
    spans: InMemorySpanExporter,
) -> None:
    await _get(RequestIdMiddleware(_Seen(), ("/v1",)), "/ready")
    assert _finished(spans) == []
    await _get(RequestIdMiddleware(_Seen(status=404), ("/v1",)), "/v1/anything-at-all")
    (span,) = _finished(spans)
    assert span.name == "POST"


def test_span_names_leave_ids_out() -> None:
    org = str(uuid.uuid4())
    assert span_name("GET", f"/api/orgs/{org}/keys") == "GET /api/orgs/{id}/keys"
    assert span_name("GET", "/api/audit/12345") == "GET /api/audit/{id}"
    assert span_name("POST", "/v1/chat/completions") == "POST /v1/chat/completions"


def _event(traceparent: str | None) -> UsageEvent:
    return UsageEvent(
        event_id=uuid.uuid4(),
        ts=datetime.now(UTC),
        org_id=uuid.uuid4(),
        user_id=None,
        api_key_id=uuid.uuid4(),
        model="demo-chat",
        backend_id=uuid.uuid4(),
        endpoint="chat/completions",
        http_status=200,
        error_type=None,
        prompt_tokens=12,
        completion_tokens=34,
        cached_tokens=0,
        cost_micros=5,
        latency_ms=10,
        ttft_ms=None,
        stream=False,
        partial=False,
        traceparent=traceparent,
    )


async def test_the_usage_event_and_its_figures_land_on_the_request_span(
    spans: InMemorySpanExporter,
) -> None:
    events: list[UsageEvent] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        meter = Meter(uuid.uuid4(), datetime.now(UTC), "chat/completions", False)
        event = _event(meter.traceparent)
        events.append(event)
        annotate_span(event)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await _get(
        RequestIdMiddleware(app, ("/v1",)),
        "/v1/chat/completions",
        {"traceparent": CLIENT_TRACEPARENT},
    )
    (span,) = _finished(spans)
    (event,) = events
    assert event.trace_id == CLIENT_TRACE
    assert (
        event.traceparent
        == tracing.TraceContext(CLIENT_TRACE, format(span.context.span_id, "016x")).traceparent
    )
    attributes = span.attributes
    assert attributes["gen_ai.request.model"] == "demo-chat"
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["gen_ai.usage.output_tokens"] == 34
    assert attributes["ias.org.id"] == str(event.org_id)
    assert attributes["ias.backend.id"] == str(event.backend_id)
    assert attributes["ias.endpoint"] == "chat/completions"
    assert attributes["ias.usage.status"] == 200
    assert "error.type" not in attributes


def test_a_meter_outside_a_request_has_no_trace() -> None:
    meter = Meter(uuid.uuid4(), datetime.now(UTC), "chat/completions", False)
    assert meter.traceparent is None
    annotate_span(_event(None))  # no span: nothing to do, nothing raised


def test_a_consumer_span_links_the_traces_it_works_for(spans: InMemorySpanExporter) -> None:
    parents = [tracing.new_trace().traceparent for _ in range(3)]
    with tracing.consumer_span("usage.store", [*parents, parents[0], None, "junk"], {"n": 3}):
        inside = tracing.current_trace()
    (span,) = _finished(spans)
    assert span.kind is SpanKind.CONSUMER
    assert inside is not None
    assert inside.trace_id == format(span.context.trace_id, "032x")
    linked = {
        tracing.TraceContext(
            format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")
        ).traceparent
        for link in span.links
    }
    assert linked == set(parents)
    assert tracing.current_trace() is None


def test_a_consumer_span_records_a_failure(spans: InMemorySpanExporter) -> None:
    with pytest.raises(RuntimeError), tracing.consumer_span("usage.store", []):
        raise RuntimeError("database gone")
    (span,) = _finished(spans)
    assert span.status.status_code is StatusCode.ERROR


def test_without_export_a_consumer_span_is_nothing() -> None:
    with tracing.consumer_span("usage.store", [tracing.new_trace().traceparent]):
        assert tracing.current_trace() is None


def test_the_otlp_exporter_posts_to_the_collectors_traces_path() -> None:
    exporter = tracing._otlp_exporter("http://collector:4318/")
    assert exporter._endpoint == "http://collector:4318/v1/traces"  # type: ignore[attr-defined]
    exporter.shutdown()
