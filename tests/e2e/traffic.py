"""Client traffic for the end-to-end tests, and the billing oracle that checks what it cost.

`Load` keeps streaming clients busy on every router; `stream` is one streamed chat completion
read event by event; `assert_billed_exactly` compares the ledger's rows of an org with the
engines' token logs: one row per request an engine saw, with the engine's own token counts.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson

from ias.router.usage import INTERRUPTED_ERROR
from tests.e2e.stack import MODEL, EngineRecord


def chat_body(
    max_tokens: int = 20, *, stream: bool = True, model: str = MODEL, **extra: Any
) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "count for me"}],
        "max_tokens": max_tokens,
        **extra,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return orjson.dumps(body)


@dataclass
class Streamed:
    status: int
    request_id: str | None
    events: list[Any] = field(default_factory=list)  # decoded `data:` payloads, in order
    done: bool = False  # ended with `data: [DONE]`

    @property
    def token_chunks(self) -> int:
        return sum(
            1
            for event in self.events
            if isinstance(event, dict)
            and any(choice.get("delta", {}).get("content") for choice in event.get("choices", []))
        )

    @property
    def error(self) -> dict[str, Any] | None:
        for event in self.events:
            if isinstance(event, dict) and "error" in event:
                found: dict[str, Any] = event["error"]
                return found
        return None


async def stream(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    body: bytes,
    *,
    stop_after: int | None = None,
    trace_id: str | None = None,
) -> Streamed:
    """POST a streamed chat completion and read it; with `stop_after` K, hang up once K token
    chunks have arrived (the connection is closed, as a client that went away). A `trace_id`
    is sent as the request's trace, which the engine's token log records."""
    headers = {"authorization": f"Bearer {key}"}
    if trace_id is not None:
        headers["traceparent"] = f"00-{trace_id}-{'1' * 16}-01"
    async with client.stream(
        "POST", f"{url}/v1/chat/completions", content=body, headers=headers
    ) as response:
        result = Streamed(response.status_code, response.headers.get("x-request-id"))
        if response.status_code != 200:
            await response.aread()
            result.events.append(response.json())
            return result
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            payload = line.removeprefix("data: ")
            if payload == "[DONE]":
                result.done = True
                continue
            result.events.append(orjson.loads(payload))
            if stop_after is not None and result.token_chunks >= stop_after:
                break  # leaving the block closes the connection mid-stream
    return result


@dataclass
class Load:
    """Streaming clients spread over `urls`, one request after another, until stopped."""

    urls: list[str]
    key: str
    clients: int
    max_tokens: int = 20
    model: str = MODEL
    completed: int = 0
    failed: list[str] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> Load:
        urls = itertools.cycle(self.urls)
        self._tasks = [asyncio.create_task(self._client(next(urls))) for _ in range(self.clients)]
        return self

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _client(self, url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    body = chat_body(self.max_tokens, model=self.model)
                    answer = await stream(client, url, self.key, body)
                except httpx.HTTPError as exc:
                    self.failed.append(f"{url}: {exc!r}")
                    await asyncio.sleep(0.05)
                    continue
                if answer.status == 200 and answer.done:
                    self.completed += 1
                else:
                    self.failed.append(f"{url}: {answer.status} {answer.events[-1:]}")
                    await asyncio.sleep(0.05)


def assert_billed_exactly(
    records: Mapping[str, EngineRecord],
    rows: Mapping[str, asyncpg.Record],
    *,
    interrupted: Iterable[str] = (),
) -> None:
    """Every request an engine saw has exactly one row (rows are keyed by event id, so a second
    row for one id cannot hide) with the engine's tokens; rows no engine saw bill nothing.

    `interrupted` names rows allowed to be the journal's stand-ins for requests a router died
    in the middle of (billed as interrupted, with no tokens known)."""
    allowed = set(interrupted)
    missing = sorted(set(records) - set(rows))
    assert not missing, (
        f"{len(missing)} of {len(records)} engine requests never billed: {missing[:5]}"
    )
    wrong = []
    for request_id, record in records.items():
        row = rows[request_id]
        if row["error_type"] == INTERRUPTED_ERROR and request_id in allowed:
            continue
        billed = (row["prompt_tokens"], row["completion_tokens"])
        if billed != (record.prompt_tokens, record.completion_tokens):
            wrong.append((request_id, billed, record))
    assert not wrong, f"{len(wrong)} rows disagree with the engine: {wrong[:3]}"
    for event_id in set(rows) - set(records):
        row = rows[event_id]
        assert (row["prompt_tokens"], row["completion_tokens"]) == (0, 0), dict(row)
