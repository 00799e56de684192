"""Relaying a backend's answer to the client, and reading its usage on the way.

Streams are relayed event by event, as soon as each arrives, byte for byte. The router reads
each event (it must see usage and errors) but rewrites bytes only where it must:

* the usage-only final chunk it asked for is dropped when the client did not ask for it;
* per-chunk running usage it asked for is blanked (`"usage":null`) when the client did not ask
  for continuous usage;
* the backend's model name is replaced by the public one when they differ.

A backend that fails mid-stream leaves the client an SSE error event and no `[DONE]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from ias.errors import IASError, UpstreamError, UpstreamTimeout
from ias.router.request import InferenceRequest
from ias.router.usage import Meter

Send = Callable[[dict[str, Any]], Awaitable[None]]
DATA = b"data: "
DONE = b"[DONE]"
EVENT_END = b"\n\n"
MAX_EVENT_BYTES = 1024 * 1024  # no SSE event of a chat stream comes near this
STREAM_ERROR = "upstream_stream_error"  # the error type of a backend's in-stream error event
# How long a stream whose client left may take to hand over its last tokens: the engine stops
# as soon as it sees the router's half-close, so this is only reached by a stalled engine.
DRAIN_SECONDS = 0.5
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class ClientStalled(Exception):
    """The client stopped reading: nothing more could be sent to it within the deadline."""


class ModelRename:
    """Swaps `"model":"<upstream>"` for the public name, only when the two differ."""

    def __init__(self, upstream: str, public: str) -> None:
        self.old = b'"model":' + orjson.dumps(upstream)
        self.new = b'"model":' + orjson.dumps(public)
        self.active = upstream != public

    def __call__(self, data: bytes) -> bytes:
        return data.replace(self.old, self.new, 1) if self.active else data


def error_event(error: IASError) -> bytes:
    return DATA + error.body() + b"\n\n"


Headers = list[tuple[bytes, bytes]]


async def relay_whole(
    response: aiohttp.ClientResponse,
    send: Send,
    meter: Meter,
    rename: ModelRename,
    total_timeout: float,
    extra_headers: Headers,
) -> None:
    async with asyncio.timeout(total_timeout):
        payload = await response.read()
    if response.status < 400:
        try:
            meter.saw_usage(orjson.loads(payload).get("usage"))
        except (orjson.JSONDecodeError, AttributeError):
            raise UpstreamError("The backend answered with a body that is not JSON.") from None
        payload = rename(payload)
    else:
        meter.failed(response.status, "upstream_" + str(response.status))
    content_type = response.headers.get("content-type", "application/json").encode()
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(b"content-type", content_type), *extra_headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class StreamRelay:
    def __init__(
        self,
        request: InferenceRequest,
        response: aiohttp.ClientResponse,
        send: Send,
        meter: Meter,
        rename: ModelRename,
        between_chunks: float,
        extra_headers: Headers,
    ) -> None:
        self.extra_headers = extra_headers
        self.request = request
        self.response = response
        self.send = send
        self.meter = meter
        self.rename = rename
        self.between_chunks = between_chunks
        self.started = False
        self._pending = bytearray()

    async def next_event(self, within: float) -> bytes:
        """One SSE event (up to its blank line), or b"" at the end of the stream.

        Bytes read from the backend wait in `self._pending` until their event is whole, so a
        stream cut off half-way through an event (the client left) loses none of them."""
        async with asyncio.timeout(within):
            while (end := self._pending.find(EVENT_END)) < 0:
                if len(self._pending) > MAX_EVENT_BYTES:
                    raise UpstreamError("The backend sent an event too large to relay.")
                chunk = await self.response.content.readany()
                if not chunk:  # the end of the stream: whatever is left, maybe nothing
                    rest = bytes(self._pending)
                    self._pending.clear()
                    return rest
                self._pending += chunk
        event = bytes(self._pending[: end + len(EVENT_END)])
        del self._pending[: end + len(EVENT_END)]
        return event

    async def start(self) -> None:
        self.started = True
        headers = SSE_HEADERS + self.extra_headers
        await self.send({"type": "http.response.start", "status": 200, "headers": headers})

    async def emit(self, data: bytes) -> None:
        # A client that stops reading gets as long as a backend between two chunks before the
        # router gives up on it: the connection's buffers fill and `send` waits, forever else.
        try:
            async with asyncio.timeout(self.between_chunks):
                await self.send({"type": "http.response.body", "body": data, "more_body": True})
        except TimeoutError:
            raise ClientStalled from None

    async def run(self, first_event: bytes) -> None:
        """Relay from the first event (already read, before headers were sent) to the end."""
        event = first_event
        while event:
            outgoing = self.process(event)
            if outgoing is not None:
                await self.emit(outgoing)
            if event.startswith(DATA + DONE):
                break
            event = await self.next_event(self.between_chunks)
        else:
            raise UpstreamError("The backend closed the stream before it was finished.")
        await self.send({"type": "http.response.body", "body": b""})

    async def drain_after_client_left(self, within: float = DRAIN_SECONDS) -> None:
        """Meter every event the engine sent before it learned that the client left.

        The engine counts a token once its socket took it, and some of those are still in
        flight or in kernel buffers on this side. So the router half-closes its connection to
        the engine (the engine sees the client go at once and stops), then reads what is left
        until the engine closes its end, for at most `within` seconds, and bills it all."""
        connection = self.response.connection
        transport = connection.transport if connection is not None else None
        if transport is not None and transport.can_write_eof():
            transport.write_eof()
        try:
            async with asyncio.timeout(within):
                while chunk := await self.response.content.readany():
                    self._pending += chunk
        except (TimeoutError, aiohttp.ClientError):
            pass  # the engine stalled or broke off: bill what came before
        events = bytes(self._pending).split(EVENT_END)[:-1]  # the last piece is unfinished
        self._pending.clear()
        for event in events:
            if not event.startswith(DATA):
                continue
            try:
                chunk = orjson.loads(event[len(DATA) :])
            except orjson.JSONDecodeError:
                continue
            if isinstance(chunk, dict) and chunk.get("usage") is not None:
                self.meter.saw_usage(chunk["usage"])

    def process(self, event: bytes) -> bytes | None:
        if not event.startswith(DATA):
            return event  # comments and keep-alives pass through
        payload = event[len(DATA) :].strip()
        if payload == DONE:
            return event
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise UpstreamError("The backend sent a stream event that is not JSON.") from None
        if not isinstance(chunk, dict):
            return event
        if "error" in chunk:
            self.meter.failed(502, STREAM_ERROR)
            return event
        usage = chunk.get("usage")
        if usage is not None:
            self.meter.saw_usage(usage)
        choices = chunk.get("choices")
        if choices:
            self.meter.saw_first_token()
        elif usage is not None and not self.request.client_wants_usage:
            return None  # the usage-only chunk the router asked for on its own behalf
        if usage is not None and choices and not self.request.client_wants_continuous_usage:
            event = _blank_usage(event, usage)
        return self.rename(event)


def _blank_usage(event: bytes, usage: Any) -> bytes:
    """`"usage":{…}` → `"usage":null`, splicing the bytes when the engine wrote them compactly."""
    encoded = b'"usage":' + orjson.dumps(usage)
    if encoded in event:
        return event.replace(encoded, b'"usage":null', 1)
    chunk = orjson.loads(event[len(DATA) :])
    chunk["usage"] = None
    return DATA + orjson.dumps(chunk) + b"\n\n"


def stream_failure(exc: BaseException) -> IASError:
    if isinstance(exc, IASError):
        return exc
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout("The backend stopped sending tokens; the stream was cut off.")
    return UpstreamError("The connection to the backend was lost in the middle of the stream.")
