"""Pure-ASGI middleware that gives every request an id and a trace context.

The id is echoed as `x-request-id`; the trace context continues the caller's W3C `traceparent`
(or starts a new trace) and is current while the request runs, so log lines, the backend call
and the usage event all carry its trace id. Requests under `traced_prefixes` also get a server
span when tracing is on (`ias.kit.tracing`).

Pure ASGI (not Starlette's BaseHTTPMiddleware) so streamed responses pass through untouched
and the cost per request stays a few attribute lookups.
"""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ias.kit import tracing
from ias.kit.logging import request_id_var

HEADER = b"x-request-id"
# A caller's id is kept only if it is short and plain, so it is safe in logs and headers.
_ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# Path segments that are ids, not routes: kept out of span names, which must stay few.
_ID_SEGMENT = re.compile(r"^(?:[0-9]+|[0-9a-fA-F-]{32,36}|[A-Za-z0-9_-]{24,})$")


_PROCESS_TAG = os.urandom(6).hex()
_sequence = itertools.count(1)


def new_request_id() -> str:
    """Unique across processes (a random tag per process) and cheap (a counter within one)."""
    return f"req_{_PROCESS_TAG}{next(_sequence):010x}"


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _ACCEPTABLE.match(value) else None
    return None


def incoming_traceparent(scope: Scope) -> tracing.TraceContext | None:
    for name, value in scope["headers"]:
        if name == tracing.HEADER:
            return tracing.parse_traceparent(value)
    return None


def span_name(method: str, path: str) -> str:
    segments = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return f"{method} {'/'.join(segments)}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, traced_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.traced_prefixes = traced_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        parent = incoming_traceparent(scope)
        span = None
        if tracing.active_tracer() is not None and scope["path"].startswith(self.traced_prefixes):
            method = scope["method"]
            context, span = tracing.start_server_span(
                span_name(method, scope["path"]),
                parent,
                {
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "ias.request_id": request_id,
                },
            )
        else:
            context = parent.child() if parent else tracing.new_trace()
        token = request_id_var.set(request_id)
        encoded = request_id.encode("ascii")
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        try:
            with tracing.request_trace(context, span):
                await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            if span is not None:
                if status == 404:
                    span.update_name(scope["method"])  # unknown paths must not name spans
                tracing.end_server_span(span, status)
