from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
import pytest

from ias.errors import (
    IASError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from ias.router.relay import ModelRename, StreamRelay, error_event, stream_failure
from ias.router.request import InferenceRequest, parse_request
from ias.router.usage import Meter

UPSTREAM = "meta-llama/Llama-3.1-8B-Instruct"
PUBLIC = "llama-8b"
DONE = b"data: [DONE]\n\n"


def chat_request(**stream_options: bool) -> InferenceRequest:
    body: dict[str, Any] = {"model": PUBLIC, "messages": [], "stream": True}
    if stream_options:
        body["stream_options"] = stream_options
    return parse_request(orjson.dumps(body), "chat/completions")


def new_meter() -> Meter:
    return Meter(uuid.uuid4(), datetime.now(UTC), "chat/completions", True)


async def no_send(_message: dict[str, Any]) -> None:
    raise AssertionError("process() must not send anything")


def relay(
    request: InferenceRequest | None = None,
    meter: Meter | None = None,
    rename: ModelRename | None = None,
) -> StreamRelay:
    unused_response: Any = object()  # process() never reads the response
    return StreamRelay(
        request or chat_request(),
        unused_response,
        no_send,
        meter or new_meter(),
        rename or ModelRename(UPSTREAM, UPSTREAM),
        1.0,
        [],
    )


def event(chunk: Any) -> bytes:
    """An SSE event as vLLM writes it: compact JSON, one data line, a blank line."""
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def usage(prompt: int, completion: int, cached: int | None = None) -> dict[str, Any]:
    reported: dict[str, Any] = {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }
    if cached is not None:
        reported["prompt_tokens_details"] = {"cached_tokens": cached}
    return reported


def token_chunk(text: str, running: dict[str, Any] | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": UPSTREAM,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    if running is not None:
        chunk["usage"] = running
    return chunk


def usage_chunk(reported: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": UPSTREAM,
        "choices": [],
        "usage": reported,
    }


# --- the usage-only final chunk ---------------------------------------------------------------


def test_usage_only_chunk_is_dropped_when_the_client_did_not_ask_for_usage() -> None:
    meter = new_meter()
    assert relay(chat_request(), meter).process(event(usage_chunk(usage(12, 7, 4)))) is None
    assert (meter.prompt_tokens, meter.completion_tokens, meter.cached_tokens) == (12, 7, 4)


def test_usage_only_chunk_is_dropped_when_only_continuous_usage_was_asked_for() -> None:
    request = chat_request(continuous_usage_stats=True)
    assert relay(request).process(event(usage_chunk(usage(1, 1)))) is None


def test_usage_only_chunk_reaches_the_client_that_asked_for_usage() -> None:
    meter = new_meter()
    raw = event(usage_chunk(usage(12, 7)))
    assert relay(chat_request(include_usage=True), meter).process(raw) == raw
    assert (meter.prompt_tokens, meter.completion_tokens) == (12, 7)


# --- running usage on every chunk -------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"include_usage": True}])
def test_running_usage_is_blanked_unless_continuous_usage_was_asked_for(
    options: dict[str, bool],
) -> None:
    meter = new_meter()
    raw = event(token_chunk("Hello", usage(12, 1)))
    out = relay(chat_request(**options), meter).process(raw)
    assert out is not None
    expected = raw.replace(b'"usage":' + orjson.dumps(usage(12, 1)), b'"usage":null')
    assert expected != raw
    assert out == expected  # every other byte as the backend sent it
    assert orjson.loads(out[len(b"data: ") :])["usage"] is None
    assert (meter.prompt_tokens, meter.completion_tokens) == (12, 1)


def test_running_usage_is_relayed_untouched_when_the_client_asked_for_it() -> None:
    meter = new_meter()
    raw = event(token_chunk("Hello", usage(12, 1)))
    request = chat_request(include_usage=True, continuous_usage_stats=True)
    assert relay(request, meter).process(raw) == raw
    assert meter.completion_tokens == 1


def test_running_usage_written_with_spaces_is_still_blanked() -> None:
    raw = (
        b'data: {"id": "chatcmpl-1", "model": "m", "choices": [{"index": 0, "delta": '
        b'{"content": "Hi"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}\n\n'
    )
    meter = new_meter()
    out = relay(chat_request(), meter).process(raw)
    assert out is not None
    assert out.startswith(b"data: ")
    assert out.endswith(b"\n\n")
    chunk = orjson.loads(out[len(b"data: ") :])
    assert chunk["usage"] is None
    assert chunk["choices"] == [{"index": 0, "delta": {"content": "Hi"}}]
    assert chunk["id"] == "chatcmpl-1"
    assert (meter.prompt_tokens, meter.completion_tokens) == (3, 1)


def test_chunk_without_usage_is_relayed_byte_for_byte() -> None:
    raw = event(token_chunk("Hello"))
    assert relay().process(raw) == raw


def test_later_usage_reports_supersede_earlier_ones() -> None:
    meter = new_meter()
    stream = relay(chat_request(), meter)
    for completion in range(1, 6):
        stream.process(event(token_chunk("x", usage(10, completion))))
    assert (meter.prompt_tokens, meter.completion_tokens) == (10, 5)
    stream.process(event(usage_chunk(usage(10, 5, 8))))
    assert (meter.prompt_tokens, meter.completion_tokens, meter.cached_tokens) == (10, 5, 8)


# --- what passes through untouched ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [DONE, b"data: [DONE]\n\n\n", b": keep-alive\n\n", b":\n\n", b"event: ping\n\n"]
)
def test_done_and_comments_pass_through(raw: bytes) -> None:
    meter = new_meter()
    assert relay(chat_request(), meter, ModelRename(UPSTREAM, PUBLIC)).process(raw) == raw
    assert meter.status == 200
    assert meter.first_token_at is None


@pytest.mark.parametrize("payload", [b"42", b'"text"', b"[1,2]", b"null"])
def test_json_that_is_not_an_object_passes_through(payload: bytes) -> None:
    raw = b"data: " + payload + b"\n\n"
    assert relay().process(raw) == raw


@pytest.mark.parametrize(
    "raw", [b"data: {\n\n", b"data: not json\n\n", b"data: \n\n", b"data: {'a': 1}\n\n"]
)
def test_data_that_is_not_json_is_an_upstream_error(raw: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        relay().process(raw)
    assert caught.value.status == 502


def test_error_chunk_is_relayed_and_marks_the_request_failed() -> None:
    meter = new_meter()
    raw = event({"error": {"message": "boom", "type": "InternalServerError", "code": 500}})
    assert relay(chat_request(), meter, ModelRename(UPSTREAM, PUBLIC)).process(raw) == raw
    assert meter.status == 502
    assert meter.error_type == "upstream_stream_error"


# --- time to first token ----------------------------------------------------------------------


def test_first_token_time_is_taken_from_the_first_chunk_with_choices() -> None:
    meter = new_meter()
    stream = relay(chat_request(), meter)
    stream.process(b": keep-alive\n\n")
    assert meter.first_token_at is None
    stream.process(event(token_chunk("a")))
    first = meter.first_token_at
    assert first is not None
    stream.process(event(token_chunk("b")))
    stream.process(event(usage_chunk(usage(1, 2))))
    assert meter.first_token_at == first


def test_usage_only_chunk_is_not_a_first_token() -> None:
    meter = new_meter()
    relay(chat_request(include_usage=True), meter).process(event(usage_chunk(usage(1, 0))))
    assert meter.first_token_at is None


# --- model rename -----------------------------------------------------------------------------


def test_rename_is_inactive_when_names_are_equal() -> None:
    rename = ModelRename(UPSTREAM, UPSTREAM)
    raw = event(token_chunk("x"))
    assert rename.active is False
    assert rename(raw) is raw


def test_rename_swaps_only_the_model_field() -> None:
    text = f'the backend is {UPSTREAM} and "model":"{UPSTREAM}" stays'
    raw = event(token_chunk(text))
    out = ModelRename(UPSTREAM, PUBLIC)(raw)
    chunk = orjson.loads(out[len(b"data: ") :])
    assert chunk["model"] == PUBLIC
    assert chunk["choices"][0]["delta"]["content"] == text
    assert out == raw.replace(b'"model":"' + UPSTREAM.encode(), b'"model":"' + PUBLIC.encode())


@pytest.mark.parametrize(
    ("upstream", "public"),
    [("a/b-7B", "a"), ("Qwen/Qwen2.5 \u00e9", "qwen"), ('we"ird\\name', "ok"), ("x", "Ünï")],
)
def test_rename_handles_names_that_json_must_escape(upstream: str, public: str) -> None:
    raw = event({"id": "c", "model": upstream, "choices": []})
    out = ModelRename(upstream, public)(raw)
    assert orjson.loads(out[len(b"data: ") :])["model"] == public


def test_process_renames_relayed_chunks_when_names_differ() -> None:
    stream = relay(chat_request(include_usage=True), rename=ModelRename(UPSTREAM, PUBLIC))
    for raw in (event(token_chunk("hi", usage(3, 1))), event(usage_chunk(usage(3, 1)))):
        out = stream.process(raw)
        assert out is not None
        assert orjson.loads(out[len(b"data: ") :])["model"] == PUBLIC


def test_whole_stream_as_a_client_without_usage_sees_it() -> None:
    meter = new_meter()
    stream = relay(chat_request(), meter, ModelRename(UPSTREAM, PUBLIC))
    events = [
        event(token_chunk("", usage(9, 0))),
        event(token_chunk("Hel", usage(9, 1))),
        event(token_chunk("lo", usage(9, 2))),
        event(usage_chunk(usage(9, 2, 5))),
        DONE,
    ]
    out = [stream.process(raw) for raw in events]
    assert out[3] is None
    relayed = [raw for raw in out if raw is not None]
    assert relayed[-1] == DONE
    chunks = [orjson.loads(raw[len(b"data: ") :]) for raw in relayed[:-1]]
    assert [c["usage"] for c in chunks] == [None, None, None]
    assert {c["model"] for c in chunks} == {PUBLIC}
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == "Hello"
    assert (meter.prompt_tokens, meter.completion_tokens, meter.cached_tokens) == (9, 2, 5)
    assert meter.status == 200


# --- run(): a whole stream with a fake backend ------------------------------------------------


class FakeContent:
    """A backend's body as it arrives: each read hands over the next piece; `stall_after` K
    makes every read after the first K wait forever (a backend between two tokens)."""

    def __init__(self, pieces: list[bytes], stall_after: int | None = None) -> None:
        self._pieces = list(pieces)
        self._reads = 0
        self._stall_after = stall_after

    async def readany(self) -> bytes:
        self._reads += 1
        if self._stall_after is not None and self._reads > self._stall_after:
            await asyncio.Event().wait()
        await asyncio.sleep(0)
        return self._pieces.pop(0) if self._pieces else b""


class FakeResponse:
    def __init__(self, pieces: list[bytes], stall_after: int | None = None) -> None:
        self.content = FakeContent(pieces, stall_after)
        self.connection = None


async def run_stream(events: list[bytes], request: InferenceRequest) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    response: Any = FakeResponse(events[1:])
    stream = StreamRelay(
        request,
        response,
        send,
        new_meter(),
        ModelRename(UPSTREAM, UPSTREAM),
        1.0,
        [],
    )
    await stream.run(events[0])
    return sent


async def test_run_relays_until_done_and_ends_the_body() -> None:
    events = [event(token_chunk("a")), event(usage_chunk(usage(1, 1))), DONE, event({"late": 1})]
    sent = await run_stream(events, chat_request())
    bodies = [m["body"] for m in sent]
    assert bodies == [events[0], DONE, b""]
    assert [m.get("more_body", False) for m in sent] == [True, True, False]


async def test_run_reports_a_stream_that_ends_without_done() -> None:
    with pytest.raises(UpstreamError, match="closed the stream"):
        await run_stream([event(token_chunk("a"))], chat_request())


async def test_events_split_across_reads_are_put_back_together() -> None:
    whole = [event(token_chunk("a")), event(usage_chunk(usage(1, 1))), DONE]
    joined = b"".join(whole)
    pieces = [joined[:7], joined[7:40], joined[40:41], joined[41:]]
    stream = StreamRelay(
        chat_request(),
        FakeResponse(pieces),
        no_send,
        new_meter(),
        ModelRename(UPSTREAM, UPSTREAM),
        1.0,
        [],
    )
    assert [await stream.next_event(1.0) for _ in range(4)] == [*whole, b""]


async def test_a_client_leaving_half_way_through_an_event_is_billed_for_it() -> None:
    """The read that was waiting for the rest of an event is cancelled; the bytes it had
    already taken are not lost, and the rest, read after the client left, is billed."""
    billed = event({"choices": [], "usage": usage(3, 2)})
    response: Any = FakeResponse([billed[:10], billed[10:]], stall_after=1)
    meter = new_meter()
    stream = StreamRelay(
        chat_request(), response, no_send, meter, ModelRename(UPSTREAM, UPSTREAM), 1.0, []
    )
    reading = asyncio.ensure_future(stream.next_event(1.0))
    await asyncio.sleep(0.01)
    reading.cancel()  # the client left while the router waited for the event's end
    with pytest.raises(asyncio.CancelledError):
        await reading
    response.content._stall_after = None
    await stream.drain_after_client_left(within=1.0)
    assert (meter.prompt_tokens, meter.completion_tokens) == (3, 2)


# --- errors after the stream started ----------------------------------------------------------


def test_error_event_is_an_sse_line_with_the_openai_envelope() -> None:
    raw = error_event(UpstreamTimeout("slow"))
    assert raw.startswith(b"data: ")
    assert raw.endswith(b"\n\n")
    assert orjson.loads(raw[len(b"data: ") :]) == {
        "error": {
            "message": "slow",
            "type": "timeout_error",
            "param": None,
            "code": "upstream_timeout",
        }
    }


@pytest.mark.parametrize("error", [UpstreamError("x"), RateLimited("y"), InvalidRequest("z")])
def test_stream_failure_keeps_our_own_errors(error: IASError) -> None:
    assert stream_failure(error) is error


def test_stream_failure_turns_a_timeout_into_a_504() -> None:
    failure = stream_failure(TimeoutError())
    assert isinstance(failure, UpstreamTimeout)
    assert failure.status == 504


@pytest.mark.parametrize(
    "exc",
    [aiohttp.ClientPayloadError("cut"), aiohttp.ServerDisconnectedError(), ConnectionResetError()],
)
def test_stream_failure_turns_a_lost_connection_into_a_502(exc: BaseException) -> None:
    failure = stream_failure(exc)
    assert type(failure) is UpstreamError
    assert failure.status == 502
