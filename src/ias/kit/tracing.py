"""Trace context for every request, and OpenTelemetry spans when an exporter is configured.

Two layers, so that a request can be followed whether or not anything is exported:

* Always on, no dependency: a W3C trace context (`TraceContext`) per request, continued from
  the client's `traceparent` header or started fresh, held in a context variable. It is written
  on every log line, passed on to the backend as `traceparent` and carried by the usage event,
  so a request id, the engine's record of the request and its ledger row share one trace id.
* Only when `configure_tracing` was given an endpoint (or an exporter): OpenTelemetry SDK spans,
  exported over OTLP/HTTP. The SDK is imported then and only then; a process without tracing
  never loads it and its requests pay for two random ids and a context variable.

Tracing is process-wide configuration, like logging: set once when a process starts
(`tracing_session`), read through `active_tracer`. That is the one piece of module state here.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

HEADER = b"traceparent"
AttributeValue = str | bool | int | float
# Version 00 exactly; a later version may append fields after a dash (W3C Trace Context §3.2).
_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<span_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?$"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_SAMPLED = 0x01
# Span links beyond this are dropped by the SDK anyway (its default link limit).
MAX_LINKS = 128
OTLP_TRACES_PATH = "/v1/traces"


@dataclass(frozen=True, slots=True)
class TraceContext:
    """Where a piece of work sits in a trace: the trace, and the span doing the work."""

    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    sampled: bool = True

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def child(self) -> TraceContext:
        """A new span in the same trace."""
        return TraceContext(self.trace_id, os.urandom(8).hex(), self.sampled)


def new_trace() -> TraceContext:
    ids = os.urandom(24).hex()
    return TraceContext(ids[:32], ids[32:])


def parse_traceparent(value: object) -> TraceContext | None:
    """The context a `traceparent` header names, or None if it is absent or not valid."""
    if not isinstance(value, str | bytes):
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if len(value) > 256:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, rest = match["version"], match["rest"]
    if version == "ff" or (version == "00" and rest is not None):
        return None
    trace_id, span_id = match["trace_id"], match["span_id"]
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, bool(int(match["flags"], 16) & _SAMPLED))


def trace_id_of(traceparent: object) -> str | None:
    context = parse_traceparent(traceparent)
    return context.trace_id if context else None


trace_context_var: ContextVar[TraceContext | None] = ContextVar("trace_context", default=None)
# The SDK span of the current request, when tracing is on and the request is traced.
_span_var: ContextVar[Span | None] = ContextVar("trace_span", default=None)


def current_trace() -> TraceContext | None:
    return trace_context_var.get()


def current_traceparent() -> str | None:
    context = trace_context_var.get()
    return context.traceparent if context else None


def in_traced_request() -> bool:
    """Whether the current request has a span: worth building attributes for."""
    return _span_var.get() is not None


def annotate(attributes: Mapping[str, AttributeValue | None], name: str | None = None) -> None:
    """Add attributes (None values are skipped) to the current request's span, if it has one."""
    span = _span_var.get()
    if span is None:
        return
    span.set_attributes({key: value for key, value in attributes.items() if value is not None})
    if name is not None:
        span.update_name(name)


class _Tracing:
    """The process's tracer; None while tracing is off."""

    def __init__(self) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None


_process = _Tracing()


def active_tracer() -> Tracer | None:
    return _process.tracer


def configure_tracing(
    service_name: str,
    endpoint: str | None,
    *,
    sample_ratio: float = 1.0,
    exporter: SpanExporter | None = None,
) -> bool:
    """Turn span export on for this process if there is somewhere to send spans; returns
    whether it did. `exporter` replaces OTLP (tests keep spans in memory, exported at once)."""
    if endpoint is None and exporter is None:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    shutdown_tracing()
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
        shutdown_on_exit=False,
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        assert endpoint is not None
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(endpoint)))
    _process.provider = provider
    _process.tracer = provider.get_tracer("ias")
    return True


def _otlp_exporter(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Like OTEL_EXPORTER_OTLP_ENDPOINT, the setting names the collector; traces go to its path.
    url = endpoint.rstrip("/")
    if not url.endswith(OTLP_TRACES_PATH):
        url += OTLP_TRACES_PATH
    return OTLPSpanExporter(endpoint=url)


def shutdown_tracing() -> None:
    """Export what is pending and turn tracing off."""
    provider = _process.provider
    _process.provider = _process.tracer = None
    if provider is not None:
        provider.shutdown()


@contextlib.contextmanager
def tracing_session(
    service_name: str, endpoint: str | None, *, sample_ratio: float = 1.0
) -> Iterator[bool]:
    """Tracing on for the life of a process (when there is an endpoint), flushed at the end."""
    enabled = configure_tracing(service_name, endpoint, sample_ratio=sample_ratio)
    try:
        yield enabled
    finally:
        if enabled:
            shutdown_tracing()


def _remote_parent(context: TraceContext | None) -> Any:
    from opentelemetry.context import Context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

    if context is None:
        return Context()  # a root span: the SDK picks the trace id
    flags = TraceFlags(TraceFlags.SAMPLED if context.sampled else TraceFlags.DEFAULT)
    span_context = SpanContext(
        int(context.trace_id, 16), int(context.span_id, 16), is_remote=True, trace_flags=flags
    )
    return set_span_in_context(NonRecordingSpan(span_context))


def _context_of(span: Span) -> TraceContext:
    span_context = span.get_span_context()
    return TraceContext(
        format(span_context.trace_id, "032x"),
        format(span_context.span_id, "016x"),
        span_context.trace_flags.sampled,
    )


def start_server_span(
    name: str, parent: TraceContext | None, attributes: Mapping[str, AttributeValue]
) -> tuple[TraceContext, Span | None]:
    """The context for an incoming request, and its span when tracing is on (end it)."""
    tracer = _process.tracer
    if tracer is None:
        return (parent.child() if parent else new_trace()), None
    from opentelemetry.trace import SpanKind

    span = tracer.start_span(
        name, context=_remote_parent(parent), kind=SpanKind.SERVER, attributes=attributes
    )
    return _context_of(span), span


@contextlib.contextmanager
def request_trace(context: TraceContext, span: Span | None) -> Iterator[None]:
    """Make `context` (and `span`) current: log lines, backends and usage events see them."""
    context_token = trace_context_var.set(context)
    span_token = _span_var.set(span)
    try:
        yield
    finally:
        _span_var.reset(span_token)
        trace_context_var.reset(context_token)


def end_server_span(span: Span, status: int | None) -> None:
    from opentelemetry.trace import StatusCode

    if status is not None:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(StatusCode.ERROR)
    span.end()


@contextlib.contextmanager
def consumer_span(
    name: str,
    linked: Iterable[str | None],
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[None]:
    """A span for work done on behalf of many traces (a batch of messages), linked to each of
    them (up to `MAX_LINKS`) and current while the block runs. Nothing at all when off."""
    tracer = _process.tracer
    if tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind, StatusCode

    span = tracer.start_span(
        name,
        context=_remote_parent(None),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        links=_links(linked),
    )
    try:
        with request_trace(_context_of(span), span):
            yield
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)
        raise
    finally:
        span.end()


def _links(traceparents: Iterable[str | None]) -> Sequence[Any]:
    from opentelemetry.trace import Link, SpanContext, TraceFlags

    links, seen = [], set()
    for traceparent in traceparents:
        context = parse_traceparent(traceparent)
        if context is None or context.span_id in seen:
            continue
        seen.add(context.span_id)
        flags = TraceFlags(TraceFlags.SAMPLED if context.sampled else TraceFlags.DEFAULT)
        span_context = SpanContext(
            int(context.trace_id, 16), int(context.span_id, 16), is_remote=True, trace_flags=flags
        )
        links.append(Link(span_context))
        if len(links) == MAX_LINKS:
            break
    return links
