"""The engine behind a real uvicorn server, seen by a real HTTP client over loopback.

What only real sockets show: a client that closes mid-stream is noticed and billed exactly the
chunks it read, an injected death leaves the client with an incomplete chunked body, and an
injected hang holds the connection until the client gives up.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import orjson
import pytest
import uvicorn

from ias.engine import EngineApp, EngineConfig, EngineModel, create_engine_app

MODEL = "chat-model"
CHAT = "/v1/chat/completions"
TOKEN_DELAY = 0.02  # long enough that a client closing after a chunk beats the next one


@contextmanager
def running(config: EngineConfig) -> Iterator[tuple[EngineApp, str]]:
    """An engine served by uvicorn (uvloop + httptools, as `ias serve`) in a side thread."""
    app = create_engine_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "the engine did not start"
        time.sleep(0.01)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@asynccontextmanager
async def engine(**overrides: Any) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    config = EngineConfig(models=(EngineModel(MODEL),), **overrides)
    with running(config) as (_, base):
        async with aiohttp.ClientSession(base) as http:
            yield base, http


def _body(**fields: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": "Tell me a long story about rivers."}]
    return {"model": MODEL, "messages": messages, **fields}


def _stream_body(**fields: Any) -> dict[str, Any]:
    return _body(stream=True, stream_options={"include_usage": True}, **fields)


def _is_token_chunk(line: bytes) -> bool:
    if not line.startswith(b"data: {"):
        return False
    choices = orjson.loads(line[len(b"data: ") :])["choices"]
    return bool(choices) and "role" not in choices[0]["delta"]


async def _next_event(response: aiohttp.ClientResponse) -> bytes:
    while True:
        line = await response.content.readline()
        if line.strip() or not line:
            return line


async def _record(
    http: aiohttp.ClientSession, request_id: str, *, settled: bool = True
) -> dict[str, Any]:
    """The token log row of a request, once it has finished (or at once, if not `settled`)."""
    deadline = time.monotonic() + 5
    while True:
        async with http.get("/mock/log", params={"request_id": request_id}) as response:
            rows = await response.json()
        if rows and (not settled or rows[-1]["finished"] is not None):
            return dict(rows[-1])
        assert time.monotonic() < deadline, f"request {request_id} never finished"
        await asyncio.sleep(0.01)


async def _metric(http: aiohttp.ClientSession, name: str) -> float:
    async with http.get("/metrics") as response:
        text = await response.text()
    prefix = f'{name}{{model_name="{MODEL}"}} '
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line[len(prefix) :])


async def test_a_whole_stream_over_a_socket() -> None:
    async with engine() as (_, http):
        headers = {"x-request-id": "whole"}
        async with http.post(CHAT, json=_stream_body(), headers=headers) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = [line async for line in response.content if line.strip()]
        assert lines[-1] == b"data: [DONE]\n"
        usage = orjson.loads(lines[-2][len(b"data: ") :])["usage"]
        record = await _record(http, "whole")
        assert record["status"] == "completed"
        assert record["completion_tokens"] == usage["completion_tokens"]
        assert record["completion_tokens"] == sum(_is_token_chunk(line) for line in lines)


def _cut_points() -> list[tuple[int, int]]:
    """(choices, chunks read before closing): fixed points plus a few seeded random ones.

    With two choices the cut falls between decoding steps: the chunks of one step leave
    together, so a client that stops reading mid-step already holds the rest of that step.
    """
    rng = random.Random(20240601)
    fixed = [(1, 1), (1, 3), (1, 7), (2, 2), (2, 6)]
    return [*fixed, (1, rng.randint(2, 7)), (2, 2 * rng.randint(1, 7))]


@pytest.mark.parametrize(("choices", "read"), _cut_points())
async def test_a_client_that_closes_is_billed_exactly_the_chunks_it_read(
    choices: int, read: int
) -> None:
    async with engine(seconds_per_token=TOKEN_DELAY) as (_, http):
        request_id = f"cut-{choices}-{read}"
        body = _stream_body(n=choices, max_tokens=8)
        received = 0
        response = await http.post(CHAT, json=body, headers={"x-request-id": request_id})
        async for line in response.content:
            received += _is_token_chunk(line)
            if received == read:
                break
        response.close()  # drop the connection, as a user closing a tab would
        record = await _record(http, request_id)
        assert record["status"] == "disconnected"
        assert record["completion_tokens"] == received == read
        await asyncio.sleep(3 * TOKEN_DELAY)
        assert await _metric(http, "vllm:generation_tokens_total") == read, "it stopped"
        assert await _metric(http, "vllm:num_requests_running") == 0


async def test_an_injected_death_leaves_an_incomplete_stream() -> None:
    async with engine() as (_, http):
        body = _stream_body(mock={"die_after": 3})
        seen: list[bytes] = []

        async def read_all(response: aiohttp.ClientResponse) -> None:
            async for line in response.content:
                seen.append(line)

        async with http.post(CHAT, json=body, headers={"x-request-id": "dies"}) as response:
            with pytest.raises(aiohttp.ClientPayloadError):
                await read_all(response)
        assert sum(_is_token_chunk(line) for line in seen) == 3
        assert b"data: [DONE]\n" not in seen
        record = await _record(http, "dies")
        assert (record["status"], record["completion_tokens"]) == ("died", 3)


async def test_an_injected_death_cuts_an_unstreamed_response() -> None:
    async with (
        engine() as (_, http),
        http.post(CHAT, json=_body(mock={"die_after": 0})) as response,
    ):
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_an_injected_hang_holds_until_the_client_gives_up() -> None:
    async with engine() as (_, http):
        body = _stream_body(mock={"hang_after": 2})
        response = await http.post(CHAT, json=body, headers={"x-request-id": "hangs"})
        received = 0
        while received < 2:
            received += _is_token_chunk(await response.content.readline())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(_next_event(response), 0.3)
        record = await _record(http, "hangs", settled=False)
        assert (record["status"], record["finished"]) == ("hung", None)
        response.close()
        record = await _record(http, "hangs")
        assert (record["status"], record["completion_tokens"]) == ("hung", 2)
        assert await _metric(http, "vllm:num_requests_running") == 0


async def test_a_client_that_times_out_during_the_prompt_stops_the_request() -> None:
    async with engine() as (_, http):
        body = _body(mock={"prompt_delay": 5})
        with pytest.raises(TimeoutError):
            await http.post(
                CHAT,
                json=body,
                headers={"x-request-id": "impatient"},
                timeout=aiohttp.ClientTimeout(total=0.2),
            )
        record = await _record(http, "impatient")
        assert (record["status"], record["completion_tokens"]) == ("disconnected", 0)


async def test_failures_and_refusals_over_a_socket() -> None:
    async with engine(fail_status=503) as (_, http), http.post(CHAT, json=_body()) as failed:
        assert failed.status == 503
        assert (await failed.json())["error"]["code"] == 503
    async with engine() as (_, http):
        async with http.post(CHAT, data=b"{oops") as response:
            assert response.status == 400
        async with http.get("/health") as response:
            assert response.status == 200
            assert await response.read() == b""
