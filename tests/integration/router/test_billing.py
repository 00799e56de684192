"""The billing oracle: every admitted request yields exactly one usage event, and its
completion tokens equal what the engine's own log says it generated — for streams cut by the
client at random points, engines dying or hanging mid-stream, and normal completions."""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import orjson
import pytest

from ias.contracts.usage import UsageEvent
from ias.engine.tokenlog import TokenRecord
from tests.integration.router.conftest import CHAT_MODEL, Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
WAIT_SECONDS = 3.0


def _body(**extra: object) -> bytes:
    return orjson.dumps(
        {
            "model": CHAT_MODEL,
            "messages": [{"role": "user", "content": "Count the waves."}],
            "stream": True,
            "max_tokens": 60,
            **extra,
        }
    )


async def _next_event(stack: Stack, seen: int) -> UsageEvent:
    deadline = time.monotonic() + WAIT_SECONDS
    while stack.sink.submitted <= seen:
        if time.monotonic() > deadline:
            raise AssertionError("no usage event was emitted")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # a second event for the same request would show up here
    assert stack.sink.submitted == seen + 1, "more than one usage event for one request"
    return stack.sink.events[-1]


async def _engine_entry(stack: Stack, event: UsageEvent) -> TokenRecord:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        entry = stack.engine.token_log.find(str(event.event_id))
        if entry is not None and entry.status != "running":
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"the engine logged nothing final for {event.event_id}")
        await asyncio.sleep(0.01)


async def _read_chunks(response: aiohttp.ClientResponse, count: int) -> list[bytes]:
    events = []
    while len(events) < count:
        line = await response.content.readuntil(b"\n\n")
        if not line:
            break
        events.append(line)
    return events


async def test_streams_cut_by_the_client_are_billed_exactly(stack: Stack) -> None:
    rng = random.Random(2024)
    headers = {"authorization": f"Bearer {stack.tenant.key}"}
    for _ in range(12):
        cut_after = rng.randint(1, 30)
        seen = stack.sink.submitted
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{stack.v1}/chat/completions",
                data=_body(mock={"delay": 0.004}),
                headers=headers,
            )
            assert response.status == 200
            await _read_chunks(response, cut_after)
            response.close()  # the client walks away mid-stream
        event = await _next_event(stack, seen)
        entry = await _engine_entry(stack, event)
        assert event.partial
        assert entry.status == "disconnected", entry
        assert event.completion_tokens == entry.completion_tokens
        assert event.prompt_tokens == entry.prompt_tokens
        assert event.completion_tokens >= cut_after - 1


async def test_complete_streams_and_plain_requests_match_the_engine(stack: Stack) -> None:
    headers = {"authorization": f"Bearer {stack.tenant.key}"}
    for stream in (True, False):
        seen = stack.sink.submitted
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{stack.v1}/chat/completions", data=_body(stream=stream), headers=headers
            )
            await response.read()
        event = await _next_event(stack, seen)
        entry = await _engine_entry(stack, event)
        assert entry.status == "completed"
        assert not event.partial
        assert event.http_status == 200
        assert (event.prompt_tokens, event.completion_tokens) == (
            entry.prompt_tokens,
            entry.completion_tokens,
        )
        assert (
            event.cost_micros
            == (event.prompt_tokens * 150_000 + event.completion_tokens * 600_000 + 500_000)
            // 1_000_000
        )


@pytest.mark.parametrize("chunks", [1, 4, 9])
async def test_an_engine_dying_mid_stream_gives_an_error_event_and_exact_billing(
    stack: Stack, chunks: int
) -> None:
    headers = {"authorization": f"Bearer {stack.tenant.key}"}
    seen = stack.sink.submitted
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{stack.v1}/chat/completions", data=_body(mock={"die_after": chunks}), headers=headers
        )
        assert response.status == 200
        raw = await response.read()
    assert b"[DONE]" not in raw
    last = raw.strip().split(b"\n\n")[-1]
    assert orjson.loads(last.removeprefix(b"data: "))["error"]["type"] == "upstream_error"
    event = await _next_event(stack, seen)
    entry = await _engine_entry(stack, event)
    assert entry.status == "died"
    assert event.completion_tokens == entry.completion_tokens
    assert event.partial
    assert event.http_status == 502


async def test_an_engine_hanging_mid_stream_is_cut_off_and_billed(stack: Stack) -> None:
    headers = {"authorization": f"Bearer {stack.tenant.key}"}
    seen = stack.sink.submitted
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{stack.v1}/chat/completions", data=_body(mock={"hang_after": 3}), headers=headers
        )
        raw = await response.read()
    assert time.monotonic() - started < 5  # the between-chunks timeout is 1 s here
    assert b"timeout_error" in raw
    assert b"[DONE]" not in raw
    event = await _next_event(stack, seen)
    entry = await _engine_entry(stack, event)
    assert event.http_status == 504
    assert event.completion_tokens == entry.completion_tokens == 3


async def test_rejected_requests_emit_no_event(stack: Stack) -> None:
    seen = stack.sink.submitted
    async with aiohttp.ClientSession() as session:
        for headers, body in (
            ({}, _body()),
            ({"authorization": f"Bearer {stack.tenant.key}"}, b"{not json"),
            ({"authorization": f"Bearer {stack.tenant.key}"}, _body(model="nope")),
        ):
            async with session.post(
                f"{stack.v1}/chat/completions", data=body, headers=headers
            ) as response:
                assert response.status in (400, 401, 404)
    await asyncio.sleep(0.1)
    assert stack.sink.submitted == seen
