"""The token log: per request, how many tokens the engine delivered. Billing tests' oracle.

Every request to a generation endpoint gets one `TokenRecord`, keyed by the `x-request-id`
header when the client sent a usable one (else a fresh id, echoed in the response header).

`completion_tokens` counts tokens handed to the client's connection:
- a streamed response counts one per token chunk whose `send` returned before the engine
  learned that the client had gone; a chunk whose `send` raised, or that was never sent because
  the client left, the stream died or hung, does not count. So for a stream the client cut, the
  count equals the token chunks it received, as long as the client reads chunks as they come and
  tokens are paced (with `seconds_per_token` 0 a fast engine may still write chunks into the
  socket after the client closed it but before the close reached the engine);
- a response that is not streamed counts all its tokens once its body was sent, else 0.

`traceparent` is the W3C trace context the request arrived with (None without a valid one), so
tests can follow one trace from the client through the router to the engine.

`status` is `running` until the request ends as `completed`, `disconnected` (the client went
away first), `died` (injected: connection dropped mid-response), `hung` (injected: stalled until
the client went away) or `failed` (an error response: refused input or injected `fail_status`).
"""

from __future__ import annotations

import enum
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import orjson


class RequestStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    DISCONNECTED = "disconnected"
    DIED = "died"
    HUNG = "hung"
    FAILED = "failed"


@dataclass(slots=True)
class TokenRecord:
    request_id: str
    model: str
    endpoint: str
    stream: bool
    prompt_tokens: int
    completion_tokens: int = 0
    status: RequestStatus = RequestStatus.RUNNING
    http_status: int = 200
    started: float = 0.0
    finished: float | None = None
    traceparent: str | None = None

    def finish(self, status: RequestStatus) -> None:
        self.status = status
        self.finished = time.time()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenLog:
    """The most recent `max_records` requests, oldest first."""

    def __init__(self, max_records: int = 100_000) -> None:
        self._records: deque[TokenRecord] = deque(maxlen=max_records)

    def start(
        self,
        request_id: str,
        model: str,
        endpoint: str,
        *,
        stream: bool,
        prompt_tokens: int,
        traceparent: str | None = None,
    ) -> TokenRecord:
        record = TokenRecord(request_id, model, endpoint, stream, prompt_tokens)
        record.started = time.time()
        record.traceparent = traceparent
        self._records.append(record)
        return record

    def failed(
        self,
        request_id: str,
        model: str,
        endpoint: str,
        http_status: int,
        traceparent: str | None = None,
    ) -> TokenRecord:
        record = self.start(
            request_id, model, endpoint, stream=False, prompt_tokens=0, traceparent=traceparent
        )
        record.http_status = http_status
        record.finish(RequestStatus.FAILED)
        return record

    def records(self, request_id: str | None = None) -> list[TokenRecord]:
        if request_id is None:
            return list(self._records)
        return [record for record in self._records if record.request_id == request_id]

    def find(self, request_id: str) -> TokenRecord | None:
        """The latest record with this request id."""
        for record in reversed(self._records):
            if record.request_id == request_id:
                return record
        return None

    def clear(self) -> int:
        cleared = len(self._records)
        self._records.clear()
        return cleared

    def __len__(self) -> int:
        return len(self._records)

    def to_json(self, request_id: str | None = None) -> bytes:
        return orjson.dumps([record.as_dict() for record in self.records(request_id)])
