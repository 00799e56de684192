"""Counting what a request used, and turning it into exactly one usage event.

`Meter` follows a request from admission to its end: it takes the engine's own usage reports
(the final usage object, or the running usage of every chunk when the engine sends continuous
usage stats) and the timing. `Meter.event` is called once, in a `finally`, whatever happened.
A meter is made while the request's trace context is current and keeps its `traceparent`, so
the event leads back to the trace; `annotate_span` puts the event's figures on the span.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ias.contracts.keys import KeyRecord
from ias.contracts.usage import UsageEvent
from ias.kit.tracing import annotate, current_traceparent, in_traced_request
from ias.router.catalog import Route

# The router stopped (crash, kill) while the request was with a backend.
INTERRUPTED_STATUS = 500
INTERRUPTED_ERROR = "router_interrupted"


@dataclass(slots=True)
class Meter:
    event_id: uuid.UUID
    ts: datetime
    endpoint: str
    stream: bool
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    backend_id: uuid.UUID | None = None
    status: int = 200
    error_type: str | None = None
    partial: bool = False
    traceparent: str | None = field(default_factory=current_traceparent)

    def saw_usage(self, usage: Any) -> None:
        """Take an engine-reported usage object; later reports supersede earlier ones."""
        if not isinstance(usage, dict):
            return
        self.prompt_tokens = _count(usage.get("prompt_tokens"), self.prompt_tokens)
        self.completion_tokens = _count(usage.get("completion_tokens"), self.completion_tokens)
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict):
            self.cached_tokens = _count(details.get("cached_tokens"), self.cached_tokens)

    def saw_first_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def failed(self, status: int, error_type: str) -> None:
        self.status, self.error_type = status, error_type

    def interrupted(self, key: KeyRecord, route: Route) -> UsageEvent:
        """The event to bill if this process dies mid-request: no tokens can be proven."""
        return replace(
            self.event(key, route),
            backend_id=None,
            http_status=INTERRUPTED_STATUS,
            error_type=INTERRUPTED_ERROR,
            prompt_tokens=0,
            completion_tokens=0,
            cached_tokens=0,
            cost_micros=0,
            latency_ms=0,
            ttft_ms=None,
            partial=True,
        )

    def event(self, key: KeyRecord, route: Route) -> UsageEvent:
        now = time.perf_counter()
        ttft = None
        if self.first_token_at is not None:
            ttft = round((self.first_token_at - self.started) * 1000)
        return UsageEvent(
            event_id=self.event_id,
            ts=self.ts,
            org_id=key.org_id,
            user_id=key.user_id,
            api_key_id=key.key_id,
            model=route.name,
            backend_id=self.backend_id,
            endpoint=self.endpoint,
            http_status=self.status,
            error_type=self.error_type,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cached_tokens=self.cached_tokens,
            cost_micros=route.prices.cost_micros(
                self.prompt_tokens, self.completion_tokens, self.cached_tokens
            ),
            latency_ms=round((now - self.started) * 1000),
            ttft_ms=ttft,
            stream=self.stream,
            partial=self.partial,
            traceparent=self.traceparent,
        )


def annotate_span(event: UsageEvent) -> None:
    """The request's figures on its span (when tracing is on): what a trace view shows."""
    if not in_traced_request():
        return
    annotate(
        {
            "gen_ai.request.model": event.model,
            "gen_ai.usage.input_tokens": event.prompt_tokens,
            "gen_ai.usage.output_tokens": event.completion_tokens,
            "ias.org.id": str(event.org_id),
            "ias.backend.id": str(event.backend_id) if event.backend_id else None,
            "ias.endpoint": event.endpoint,
            "ias.usage.status": event.http_status,
            "ias.usage.event_id": str(event.event_id),
            "error.type": event.error_type,
        },
        name=f"POST /v1/{event.endpoint}",
    )


def _count(value: Any, fallback: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return fallback


class MemoryUsageSink:
    """Keeps the most recent events in memory: the embedded sink until the ledger consumes them."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.events: deque[UsageEvent] = deque(maxlen=capacity)
        self.submitted = 0

    def check_room(self) -> None:
        pass  # never full: the oldest events make way

    def begin(self, interrupted: UsageEvent) -> None:
        pass  # nothing survives this process anyway

    def submit(self, event: UsageEvent) -> None:
        self.events.append(event)
        self.submitted += 1
