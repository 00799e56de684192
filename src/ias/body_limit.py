"""Pure-ASGI guard on request bodies: a size cap (413) and a read deadline (408).

A declared `content-length` over the cap is refused before reading a byte. Otherwise the body
is read here, counted as it arrives and under one deadline, and only a whole body within the
cap reaches the app. The middleware answers the refusals itself, in the OpenAI envelope:
raised inside a framework's body parsing they would come out as its own error (FastAPI makes
any of them a 400), and a slow body the app does not read would hold its connection.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ias.errors import IASError, PayloadTooLarge, RequestTimeout


class ClientGone(Exception):
    """The client hung up before its request was read: there is no one to answer."""


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than the {limit} bytes this API accepts.")


async def read_body(
    receive: Receive, limit: int, deadline: float, declared: str | None = None
) -> bytes:
    """The whole request body: `PayloadTooLarge` as soon as it is known to pass `limit` bytes
    (before a byte is read when `declared`, its content-length, says so), `RequestTimeout` if
    it has not all arrived within `deadline` seconds."""
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        # Not a number: a length no one can hold the body to (httptools refuses it earlier).
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {deadline:g} seconds."
        ) from None


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (the first, if repeated), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the real one's messages
    (the disconnect a streaming response waits for)."""
    pending: Message | None = {"type": "http.request", "body": body, "more_body": False}

    async def replay() -> Message:
        nonlocal pending
        if pending is None:
            return await receive()
        message, pending = pending, None
        return message

    return replay


async def _refuse(send: Send, error: IASError) -> None:
    # `connection: close`: the rest of a refused body is never read, so the connection
    # cannot carry another request.
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": error.body()})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, read_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_seconds = read_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(
                receive, self.max_bytes, self.read_seconds, header(scope, b"content-length")
            )
        except ClientGone:
            return
        except (PayloadTooLarge, RequestTimeout) as error:
            await _refuse(send, error)
            return
        await self.app(scope, _replaying(body, receive), send)
