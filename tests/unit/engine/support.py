"""Helpers for driving an engine in-process: configs, request bodies, SSE parsing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson

from ias.engine import EngineApp, EngineConfig, EngineModel, create_engine_app

CHAT_MODEL = "chat-model"
TEXT_MODEL = "text-model"
EMBED_MODEL = "embed-model"
MODELS = (
    EngineModel(CHAT_MODEL, "chat"),
    EngineModel(TEXT_MODEL, "completion"),
    EngineModel(EMBED_MODEL, "embedding"),
)


def engine_config(**overrides: Any) -> EngineConfig:
    return EngineConfig(models=MODELS, **overrides)


def chat_body(content: str = "Tell me about rivers.", **fields: Any) -> dict[str, Any]:
    return {"model": CHAT_MODEL, "messages": [{"role": "user", "content": content}], **fields}


def sse_events(text: str) -> list[Any]:
    """The `data:` payloads of an SSE body, JSON-decoded, with `[DONE]` kept as a string."""
    assert text.endswith("\n\n"), "an SSE body ends with a blank line"
    events: list[Any] = []
    for frame in text.split("\n\n")[:-1]:
        assert frame.startswith("data: "), frame
        payload = frame[len("data: ") :]
        events.append(payload if payload == "[DONE]" else orjson.loads(payload))
    return events


@asynccontextmanager
async def engine_client(config: EngineConfig) -> AsyncIterator[tuple[EngineApp, httpx.AsyncClient]]:
    app = create_engine_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
        yield app, client


class Connection:
    """The server's side of one HTTP exchange, played by hand so a test decides when the client
    leaves: after `leave_after_tokens` token chunks, or when `leave()` is called."""

    def __init__(
        self,
        body: dict[str, Any],
        *,
        leave_after_tokens: int | None = None,
        send_fails_after_leaving: bool = False,
    ) -> None:
        self._body = orjson.dumps(body)
        self._body_read = False
        self._leave_after = leave_after_tokens
        self._send_fails = send_fails_after_leaving
        self.left = asyncio.Event()
        self.messages: list[dict[str, Any]] = []
        self.token_chunks = 0

    def leave(self) -> None:
        self.left.set()

    async def receive(self) -> dict[str, Any]:
        if not self._body_read:
            self._body_read = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self.left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.left.is_set() and self._send_fails:
            raise OSError("the client has gone")
        self.messages.append(message)
        chunk = message.get("body", b"")
        if message["type"] == "http.response.body" and _is_token_chunk(chunk):
            self.token_chunks += 1
            if self.token_chunks == self._leave_after:
                self.leave()

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def _is_token_chunk(chunk: bytes) -> bool:
    return chunk.startswith(b"data: {") and b'"role"' not in chunk and b'"choices":[]' not in chunk


async def serve(
    app: EngineApp, path: str, connection: Connection, request_id: str = "req-1"
) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode())],
    }
    await app(scope, connection.receive, connection.send)
