"""The router's Prometheus metrics, and the cheap calls the hot path records them with.

Metric names and labels are a contract with the dashboards (see docs/observability.md); labels
stay bounded: public model names, endpoints, status codes, backend ids and fixed reasons, never
an org, key, user or request id, and never a model name a client made up ("unknown" instead).

A request pays one dict lookup per metric family: the labelled children are looked up once
per label combination and kept. Under several worker processes prometheus_client writes each
value to a per-process file (see `ias.server`); gauges say how the workers' values combine.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from prometheus_client import Counter, Gauge, Histogram

UNKNOWN_MODEL = "unknown"
# nginx's "client closed request": the client hung up before the answer was complete.
CLIENT_CLOSED = 499

DURATION_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)

REQUESTS = Counter(
    "ias_router_requests_total",
    "Inference requests answered, by public model, endpoint and HTTP status.",
    ["model", "endpoint", "status"],
)
DURATION = Histogram(
    "ias_router_request_duration_seconds",
    "Time from the request's arrival to the end of its answer.",
    ["model", "endpoint"],
    buckets=DURATION_BUCKETS,
)
TTFT = Histogram(
    "ias_router_time_to_first_token_seconds",
    "Streams only: time from admission to the first token relayed.",
    ["model"],
    buckets=DURATION_BUCKETS,
)
TOKENS = Counter(
    "ias_router_tokens_total",
    "Tokens the engines reported, by public model and kind (prompt or completion).",
    ["model", "kind"],
)
UPSTREAM_ERRORS = Counter(
    "ias_router_upstream_errors_total",
    "Backend failures: connect, timeout, status_5xx, status_4xx or stream_broken.",
    ["backend", "reason"],
)
UPSTREAM_RETRIES = Counter(
    "ias_router_upstream_retries_total",
    "Requests retried on another backend after this backend failed.",
    ["backend"],
)
BACKEND_UP = Gauge(
    "ias_router_backend_up",
    "1 when the backend answered its last health probe, else 0.",
    ["backend", "model"],
    multiprocess_mode="livemin",  # up only if every worker's prober says so
)
LIMITER_REFUSALS = Counter(
    "ias_router_limiter_refusals_total",
    "Requests refused by a limit, a limit of zero, or an unavailable limits or usage store.",
    ["reason"],
)
LIMITER_DEGRADED = Gauge(
    "ias_router_limiter_degraded",
    "1 while limiting locally because the limits store (Redis) is unreachable.",
    multiprocess_mode="livemax",
)
SPOOL_EVENTS = Gauge(
    "ias_usage_spool_events",
    "Usage events written to the spool and not yet confirmed by the broker.",
    multiprocess_mode="livesum",
)
SPOOL_BYTES = Gauge(
    "ias_usage_spool_bytes",
    "Bytes of spool segments on disk.",
    multiprocess_mode="livesum",
)
PUBLISH_LAG = Gauge(
    "ias_usage_publish_lag_seconds",
    "Age of the oldest unconfirmed usage event; 0 when none.",
    multiprocess_mode="livemax",
)
PUBLISHED = Counter("ias_usage_published_events_total", "Usage events the broker confirmed.", [])
PUBLISH_FAILURES = Counter(
    "ias_usage_publish_failures_total",
    "Usage batches whose publication failed (and is retried).",
    [],
)


class _LabelCache:
    """`metric.labels(*values)` kept per label tuple: prometheus_client's own lookup costs more."""

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child

    def forget(self, *values: str) -> None:
        if self._children.pop(values, None) is not None:
            self._metric.remove(*values)


_requests: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_ttft = _LabelCache(TTFT)
_tokens: dict[str, tuple[Any, Any]] = {}
_refusals = _LabelCache(LIMITER_REFUSALS)
_errors = _LabelCache(UPSTREAM_ERRORS)
_retries = _LabelCache(UPSTREAM_RETRIES)
_backend_up = _LabelCache(BACKEND_UP)
_reported_backends: set[tuple[str, str]] = set()


def observe_request(model: str, endpoint: str, status: int, seconds: float) -> None:
    children = _requests.get((model, endpoint, status))
    if children is None:
        children = (REQUESTS.labels(model, endpoint, str(status)), DURATION.labels(model, endpoint))
        _requests[(model, endpoint, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def observe_ttft(model: str, seconds: float) -> None:
    _ttft(model).observe(seconds)


def count_tokens(model: str, prompt: int, completion: int) -> None:
    children = _tokens.get(model)
    if children is None:
        children = _tokens[model] = (
            TOKENS.labels(model, "prompt"),
            TOKENS.labels(model, "completion"),
        )
    if prompt:
        children[0].inc(prompt)
    if completion:
        children[1].inc(completion)


def count_refusal(reason: str) -> None:
    """`reason`: a limit kind (requests, tokens, concurrency, monthly_tokens, monthly_micros),
    limit_zero, or store_unavailable."""
    _refusals(reason).inc()


def upstream_error(backend: uuid.UUID, reason: str) -> None:
    _errors(str(backend), reason).inc()


def upstream_retry(backend: uuid.UUID) -> None:
    _retries(str(backend)).inc()


class _Probed(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def probe_ok(self) -> bool: ...


def report_backends(backends: Iterable[tuple[str, _Probed]]) -> None:
    """Set backend_up for each (public model, backend); forget backends no longer listed."""
    seen: set[tuple[str, str]] = set()
    for model, backend in backends:
        labels = (str(backend.id), model)
        seen.add(labels)
        _backend_up(*labels).set(1 if backend.probe_ok else 0)
    for labels in _reported_backends - seen:
        _backend_up.forget(*labels)
    _reported_backends.clear()
    _reported_backends.update(seen)


def limiter_degraded(degraded: bool) -> None:
    LIMITER_DEGRADED.set(1 if degraded else 0)


class SpoolReporter:
    """Writes the spool gauges at most every `interval` seconds (they are read, not counted)."""

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self._interval
        return True

    @staticmethod
    def report(events: int, size: int, lag_seconds: float) -> None:
        SPOOL_EVENTS.set(events)
        SPOOL_BYTES.set(size)
        PUBLISH_LAG.set(lag_seconds)


def usage_published(events: int) -> None:
    PUBLISHED.inc(events)


def usage_publish_failed() -> None:
    PUBLISH_FAILURES.inc()
