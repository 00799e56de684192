"""The usage event: one per request the router admits, version 1.

Minted by the router before it calls a backend (`event_id` and `ts` are fixed then, so every
redelivery of the same event carries the same ledger key), handed to a `UsageSink`, and
written exactly once by the ledger consumer. Token counts are what the engine reported; cost
is integer micro-dollars computed from the model's prices at the time of the request.

`traceparent` (optional, added within version 1) is the W3C trace context of the router's work
on the request, so a stored row leads back to its trace. An event without it decodes as before
(None); a value that is not a string is dropped rather than costing the event. Consumers must be
upgraded before routers: an older decoder refuses fields it does not know.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

import orjson

from ias.kit.tracing import trace_id_of

VERSION = 1
TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are per million tokens


@dataclass(frozen=True, slots=True)
class UsageEvent:
    event_id: uuid.UUID
    ts: datetime
    org_id: uuid.UUID
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID
    model: str
    backend_id: uuid.UUID | None
    endpoint: str
    http_status: int
    error_type: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_micros: int
    latency_ms: int
    ttft_ms: int | None
    stream: bool
    partial: bool
    traceparent: str | None = None

    @property
    def trace_id(self) -> str | None:
        """The trace this event belongs to; None without a valid `traceparent`."""
        return trace_id_of(self.traceparent)

    def encode(self) -> bytes:
        # Field by field, not dataclasses.asdict: that deep-copies every value, ten times slower.
        body = {name: getattr(self, name) for name in _FIELDS}
        body["v"] = VERSION
        return orjson.dumps(body, default=_uuid_subclass)

    @classmethod
    def decode(cls, message: bytes) -> UsageEvent:
        """Raises ValueError for a message that is not a version-1 usage event."""
        try:
            body: dict[str, Any] = orjson.loads(message)
            if body.pop("v", None) != VERSION:
                raise ValueError("not a version-1 usage event")
            for name in ("event_id", "org_id", "api_key_id"):
                body[name] = uuid.UUID(body[name])
            for name in ("user_id", "backend_id"):
                body[name] = uuid.UUID(body[name]) if body.get(name) else None
            body["ts"] = datetime.fromisoformat(body["ts"])
            if not isinstance(body.get("traceparent"), str | None):
                body["traceparent"] = None  # a broken trace link never costs a billable event
            return cls(**body)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed usage event: {exc}") from exc


_FIELDS = tuple(field.name for field in fields(UsageEvent))


def _uuid_subclass(value: object) -> str:
    # Database drivers hand out their own UUID subclasses, which orjson does not take as UUIDs.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be part of a usage event")


@dataclass(frozen=True, slots=True)
class Prices:
    """Micro-dollars per million tokens; cached prompt tokens fall back to the input price."""

    input_micros_per_mtok: int
    output_micros_per_mtok: int
    cached_input_micros_per_mtok: int | None = None

    def cost_micros(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> int:
        cached = min(cached_tokens, prompt_tokens)
        cached_price = self.cached_input_micros_per_mtok
        if cached_price is None:
            cached_price = self.input_micros_per_mtok
        scaled = (
            (prompt_tokens - cached) * self.input_micros_per_mtok
            + cached * cached_price
            + completion_tokens * self.output_micros_per_mtok
        )
        # Round half up to whole micro-dollars, in integers: no float ever touches money.
        return (scaled + TOKENS_PER_PRICE_UNIT // 2) // TOKENS_PER_PRICE_UNIT


BATCH_CONTENT_TYPE = "application/x-ndjson"
MAX_BATCH_EVENTS = 1000


def encode_batch(events: Sequence[UsageEvent]) -> bytes:
    """Several events as one message body: one encoded event per line."""
    return b"\n".join(event.encode() for event in events)


def decode_batch(body: bytes) -> list[UsageEvent]:
    """The events of one message; ValueError if any line is not a version-1 usage event.

    A message is all or nothing: the publisher writes whole batches, so a bad line means the
    message is damaged or foreign, and it is set aside as a whole rather than half-stored.
    """
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise ValueError("an empty usage message")
    if len(lines) > MAX_BATCH_EVENTS:
        raise ValueError(f"a usage message holds at most {MAX_BATCH_EVENTS} events")
    return [UsageEvent.decode(line) for line in lines]


class UsageSink(Protocol):
    """Where the router hands events. Must not block the request."""

    def check_room(self) -> None:
        """Raise `Unavailable` when no more events can be taken: the request must not run."""

    def begin(self, interrupted: UsageEvent) -> None:
        """A request is about to reach a backend: `interrupted` is what to bill for it should
        this process die before `submit` is called with its real event (same event id)."""

    def submit(self, event: UsageEvent) -> None: ...
