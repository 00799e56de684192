"""Pure-ASGI middleware that gives every request an id and echoes it as `x-request-id`.

Pure ASGI (not Starlette's BaseHTTPMiddleware) so streamed responses pass through untouched
and the cost per request stays a few attribute lookups.
"""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ias.kit.logging import request_id_var

HEADER = b"x-request-id"
# A caller's id is kept only if it is short and plain, so it is safe in logs and headers.
_ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


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


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
