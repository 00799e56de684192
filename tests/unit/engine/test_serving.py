"""Timing, capacity, injected failures and clients that leave, with the token log as witness.

Driven through a hand-played ASGI connection (`Connection`) so each test decides exactly when
the client goes away; `tests/integration/test_engine_server.py` repeats the essentials over
real sockets.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest

from ias.engine import EngineApp, RequestStatus, create_engine_app
from ias.engine.serving import EngineDied
from tests.unit.engine.support import (
    CHAT_MODEL,
    Connection,
    chat_body,
    engine_client,
    engine_config,
    serve,
    sse_events,
)

CHAT = "/v1/chat/completions"


def _gauge(app: EngineApp, name: str) -> float | None:
    return app.metrics.registry.get_sample_value(name, {"model_name": CHAT_MODEL})


def _streamed(**fields: Any) -> dict[str, Any]:
    return chat_body(stream=True, stream_options={"include_usage": True}, **fields)


async def test_engine_wide_fail_status_refuses_every_generation() -> None:
    async with engine_client(engine_config(fail_status=503)) as (app, client):
        response = await client.post(CHAT, json=_streamed(), headers={"x-request-id": "f1"})
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "ServiceUnavailableError"
        assert response.json()["error"]["code"] == 503
        record = app.token_log.find("f1")
        assert record is not None
        assert record.status is RequestStatus.FAILED
        assert record.http_status == 503
        assert record.completion_tokens == 0
        assert _gauge(app, "vllm:prompt_tokens_total") == 0
        assert (await client.get("/health")).status_code == 200


async def test_request_fail_status_overrides_the_engine(
    app: EngineApp, client: httpx.AsyncClient
) -> None:
    response = await client.post(CHAT, json=chat_body(mock={"fail_status": 429}))
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "TooManyRequestsError"
    assert (await client.post(CHAT, json=chat_body())).status_code == 200


async def test_prompt_and_token_delays_pace_the_response() -> None:
    config = engine_config(prompt_seconds_per_token=0.004, seconds_per_token=0.01)
    async with engine_client(config) as (_, client):
        started = time.perf_counter()
        response = await client.post(CHAT, json=chat_body("one two three", max_tokens=5))
        elapsed = time.perf_counter() - started
        prompt_tokens = response.json()["usage"]["prompt_tokens"]
        assert elapsed >= prompt_tokens * 0.004 + 4 * 0.01
    async with engine_client(engine_config()) as (_, client):
        started = time.perf_counter()
        body = chat_body(max_tokens=5, stream=True, mock={"delay": 0.02, "prompt_delay": 0.05})
        await client.post(CHAT, json=body)
        assert time.perf_counter() - started >= 0.05 + 4 * 0.02


async def test_over_capacity_requests_wait_and_show_as_waiting() -> None:
    async with engine_client(engine_config(max_concurrency=1)) as (app, client):
        slow = asyncio.create_task(client.post(CHAT, json=chat_body(mock={"prompt_delay": 0.3})))
        await asyncio.sleep(0.05)
        queued = asyncio.create_task(client.post(CHAT, json=chat_body()))
        await asyncio.sleep(0.05)
        metrics = (await client.get("/metrics")).text
        assert f'vllm:num_requests_running{{model_name="{CHAT_MODEL}"}} 1.0' in metrics
        assert f'vllm:num_requests_waiting{{model_name="{CHAT_MODEL}"}} 1.0' in metrics
        assert not queued.done()
        first, second = await asyncio.gather(slow, queued)
        assert first.status_code == second.status_code == 200
        assert _gauge(app, "vllm:num_requests_running") == 0
        assert _gauge(app, "vllm:num_requests_waiting") == 0


@pytest.mark.parametrize("leave_after", [1, 2, 5, 9])
async def test_a_client_that_leaves_stops_generation_and_is_billed_what_it_got(
    leave_after: int,
) -> None:
    app = create_engine_app(engine_config(seconds_per_token=0.002))
    connection = Connection(_streamed(), leave_after_tokens=leave_after)
    await asyncio.wait_for(serve(app, CHAT, connection), 5)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.DISCONNECTED
    assert record.completion_tokens == connection.token_chunks == leave_after
    assert record.finished is not None
    assert _gauge(app, "vllm:generation_tokens_total") == leave_after
    assert _gauge(app, "vllm:num_requests_running") == 0


async def test_a_chunk_whose_send_raises_is_not_counted() -> None:
    app = create_engine_app(engine_config())  # no delay: only `send` can tell us
    connection = Connection(_streamed(), leave_after_tokens=3, send_fails_after_leaving=True)
    await serve(app, CHAT, connection)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.DISCONNECTED
    assert record.completion_tokens == 3


async def test_a_client_that_leaves_during_the_prompt_gets_nothing() -> None:
    app = create_engine_app(engine_config())
    connection = Connection(chat_body(mock={"prompt_delay": 5}))
    task = asyncio.create_task(serve(app, CHAT, connection))
    await asyncio.sleep(0.02)
    connection.leave()
    await asyncio.wait_for(task, 1)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.DISCONNECTED
    assert record.completion_tokens == 0
    assert connection.messages == []


async def test_a_waiting_client_that_leaves_frees_its_place() -> None:
    app = create_engine_app(engine_config(max_concurrency=1))
    holder = Connection(chat_body(mock={"prompt_delay": 0.2}))
    waiter = Connection(chat_body())
    holding = asyncio.create_task(serve(app, CHAT, holder, "holder"))
    await asyncio.sleep(0.02)
    waiting = asyncio.create_task(serve(app, CHAT, waiter, "waiter"))
    await asyncio.sleep(0.02)
    assert _gauge(app, "vllm:num_requests_waiting") == 1
    waiter.leave()
    await asyncio.wait_for(waiting, 1)
    assert _gauge(app, "vllm:num_requests_waiting") == 0
    await asyncio.wait_for(holding, 1)
    record = app.token_log.find("waiter")
    assert record is not None
    assert record.status is RequestStatus.DISCONNECTED
    again = Connection(chat_body())
    await asyncio.wait_for(serve(app, CHAT, again, "again"), 1)
    assert again.status == 200, "no slot leaked"


@pytest.mark.parametrize("die_after", [0, 3, 1000])
async def test_die_after_sends_k_token_chunks_then_breaks_the_response(die_after: int) -> None:
    app = create_engine_app(engine_config())
    whole = Connection(chat_body())
    await serve(app, CHAT, whole, "whole")
    total = orjson.loads(whole.body)["usage"]["completion_tokens"]
    connection = Connection(_streamed(mock={"die_after": die_after}))
    with pytest.raises(EngineDied):
        await serve(app, CHAT, connection)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.DIED
    assert record.completion_tokens == connection.token_chunks == min(die_after, total)
    assert b"[DONE]" not in connection.body
    assert connection.messages[-1].get("more_body") is True, "the body never ends"


async def test_engine_wide_die_applies_to_unstreamed_responses_too() -> None:
    app = create_engine_app(engine_config(die_after_chunks=2))
    connection = Connection(chat_body())
    with pytest.raises(EngineDied):
        await serve(app, CHAT, connection)
    assert connection.status == 200, "the headers went out"
    assert connection.body == b"", "then nothing"
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.DIED
    assert record.completion_tokens == 0


@pytest.mark.parametrize("stream", [True, False])
async def test_hang_after_stalls_until_the_client_leaves(stream: bool) -> None:
    app = create_engine_app(engine_config())
    body = _streamed(mock={"hang_after": 2}) if stream else chat_body(mock={"hang_after": 2})
    connection = Connection(body)
    task = asyncio.create_task(serve(app, CHAT, connection))
    await asyncio.sleep(0.05)
    assert not task.done()
    assert connection.token_chunks == (2 if stream else 0)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.HUNG
    assert record.finished is None
    connection.leave()
    await asyncio.wait_for(task, 1)
    assert record.status is RequestStatus.HUNG
    assert record.finished is not None
    assert record.completion_tokens == connection.token_chunks
    assert _gauge(app, "vllm:num_requests_running") == 0


async def test_a_finished_stream_is_not_mistaken_for_a_disconnect() -> None:
    app = create_engine_app(engine_config(seconds_per_token=0.001))
    connection = Connection(_streamed(max_tokens=4))
    await serve(app, CHAT, connection)
    connection.leave()  # servers report a disconnect once the response is over
    await asyncio.sleep(0.01)
    record = app.token_log.find("req-1")
    assert record is not None
    assert record.status is RequestStatus.COMPLETED
    events = sse_events(connection.body.decode())
    assert events[-1] == "[DONE]"
    assert record.completion_tokens == 4
