"""One trace id from the client to the stored usage row: router process → mock engine (its token
log records the `traceparent` it received) → RabbitMQ → ledger worker → `usage_events.trace_id`.

With span export on (a stand-in OTLP collector), the router's span continues the client's
trace and the worker's batch span links to it; with export off, the trace id still flows.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ias.engine.tokenlog import TokenRecord
from ias.kit.tracing import parse_traceparent
from tests.integration.router.conftest import CHAT_MODEL
from tests.integration.usage import conftest as usage
from tests.integration.usage.conftest import Pipeline, start
from tests.servers import ServerThread

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]

pipeline = usage.pipeline  # the usage pipeline's processes, as its acceptance tests run them
SPANS_SECONDS = 20.0
ROWS_SECONDS = 30.0


class Collector:
    """Takes OTLP/HTTP trace exports and keeps every span, with its service's name."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/v1/traces":
            self._keep(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        headers = [(b"content-type", b"application/x-protobuf")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        with self._lock:
            for resource_spans in request.resource_spans:
                service = next(
                    attribute.value.string_value
                    for attribute in resource_spans.resource.attributes
                    if attribute.key == "service.name"
                )
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((service, span) for span in scope_spans.spans)

    def wait_for(self, service: str, name: str, trace_id: str) -> Any:
        deadline = time.monotonic() + SPANS_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                for seen_service, span in self.spans:
                    if seen_service == service and span.name == name and _matches(span, trace_id):
                        return span
            time.sleep(0.1)
        raise AssertionError(f"no {name!r} span from {service} for trace {trace_id}")


def _matches(span: Any, trace_id: str) -> bool:
    """The span is in the trace, or (a batch span) links to it."""
    if span.trace_id.hex() == trace_id:
        return True
    return any(link.trace_id.hex() == trace_id for link in span.links)


def _attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    collector = Collector()
    with ServerThread(collector) as server:
        yield collector, server.url


async def _chat(url: str, key: str, headers: dict[str, str]) -> httpx.Response:
    body = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": "trace me"}],
        "max_tokens": 5,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            f"{url}/v1/chat/completions",
            content=orjson.dumps(body),
            headers={"authorization": f"Bearer {key}", **headers},
        )


def _engine_record(pipeline: Pipeline, trace_id: str) -> TokenRecord:
    found = [
        record
        for record in pipeline.engine.token_log.records()
        if (context := parse_traceparent(record.traceparent)) and context.trace_id == trace_id
    ]
    assert len(found) == 1, [record.traceparent for record in pipeline.engine.token_log.records()]
    return found[0]


async def _stored_trace_id(pipeline: Pipeline, event_id: str) -> str | None:
    connection = await asyncpg.connect(pipeline.database_url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + ROWS_SECONDS
        while True:
            row = await connection.fetchrow(
                "SELECT trace_id FROM usage_events WHERE event_id = $1::uuid", event_id
            )
            if row is not None:
                return str(row["trace_id"]) if row["trace_id"] is not None else None
            assert time.monotonic() < deadline, f"event {event_id} was never stored"
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def test_the_clients_trace_reaches_the_engine_the_ledger_and_the_collector(
    pipeline: Pipeline, collector: tuple[Collector, str]
) -> None:
    spans, collector_url = collector
    pipeline.env |= {"IAS_OTEL__ENDPOINT": collector_url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    router = start(pipeline.router())
    start(pipeline.worker())
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)

    response = await _chat(
        router.url, pipeline.tenant.key, {"traceparent": f"00-{trace_id}-{client_span}-01"}
    )

    assert response.status_code == 200, response.text
    record = _engine_record(pipeline, trace_id)
    engine_parent = parse_traceparent(record.traceparent)
    assert engine_parent is not None
    assert engine_parent.span_id != client_span  # the router's span sits in between
    # The engine logs the request under the usage event's id, and the row carries the trace.
    assert await _stored_trace_id(pipeline, record.request_id) == trace_id

    router_span = spans.wait_for("ias-router", "POST /v1/chat/completions", trace_id)
    assert router_span.parent_span_id.hex() == client_span
    assert router_span.span_id.hex() == engine_parent.span_id
    attributes = _attributes(router_span)
    assert attributes["gen_ai.request.model"] == CHAT_MODEL
    assert attributes["ias.org.id"] == str(pipeline.tenant.org_id)
    assert attributes["ias.endpoint"] == "chat/completions"
    assert attributes["ias.usage.event_id"] == record.request_id
    assert attributes["http.response.status_code"] == 200
    assert attributes["gen_ai.usage.input_tokens"] == record.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == record.completion_tokens
    assert "ias.backend.id" in attributes

    batch_span = spans.wait_for("ias-worker", "usage.store", trace_id)
    linked = {(link.trace_id.hex(), link.span_id.hex()) for link in batch_span.links}
    assert (trace_id, engine_parent.span_id) in linked


async def test_without_export_a_trace_is_started_and_still_followed(pipeline: Pipeline) -> None:
    router = start(pipeline.router())
    start(pipeline.worker())

    response = await _chat(router.url, pipeline.tenant.key, {})

    assert response.status_code == 200, response.text
    (record,) = pipeline.engine.token_log.records()
    context = parse_traceparent(record.traceparent)
    assert context is not None
    assert await _stored_trace_id(pipeline, record.request_id) == context.trace_id
