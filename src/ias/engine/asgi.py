"""Small pure-ASGI helpers: read a JSON body, send a whole response, start an SSE stream."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Receive, Send

from ias.engine.errors import EngineError

JSON = b"application/json"
EVENT_STREAM = b"text/event-stream; charset=utf-8"
MAX_BODY_BYTES = 32 * 1024 * 1024

Headers = list[tuple[bytes, bytes]]


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise EngineError(499, "The client went away before sending the whole request.")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise EngineError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json_object(receive: Receive) -> dict[str, Any]:
    raw = await read_body(receive)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise EngineError(400, f"JSON decode error: {error}") from None
    if not isinstance(body, dict):
        raise EngineError(400, "The request body must be a JSON object.")
    return body


async def send_start(send: Send, status: int, content_type: bytes, headers: Headers) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *headers],
        }
    )


async def send_whole(
    send: Send, status: int, body: bytes, headers: Headers, content_type: bytes = JSON
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: EngineError, headers: Headers) -> None:
    await send_whole(send, error.status, error.body(), headers)
