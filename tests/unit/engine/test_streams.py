"""SSE streams: vLLM's framing and chunk order, OpenAI's usage rules, same text as unstreamed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ias.engine import EngineApp
from tests.openai_shapes import CHAT_CHUNK, COMPLETION_CHUNK, USAGE, assert_conforms
from tests.unit.engine.support import CHAT_MODEL, chat_body, sse_events

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"


async def _stream(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> list[Any]:
    response = await client.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    assert "[DONE]" not in events[:-1]
    chunks = events[:-1]
    schema = CHAT_CHUNK if path == CHAT else COMPLETION_CHUNK
    for chunk in chunks:
        assert_conforms(chunk, schema)
    assert len({(chunk["id"], chunk["created"], chunk["model"]) for chunk in chunks}) == 1
    return chunks


def _content(chunks: list[Any], index: int = 0) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        for choice in chunk["choices"]
        if choice["index"] == index
    )


async def test_chat_stream_opens_with_role_then_one_chunk_per_token(
    client: httpx.AsyncClient,
) -> None:
    whole = (await client.post(CHAT, json=chat_body())).json()
    chunks = await _stream(client, CHAT, chat_body())
    opening, *tokens = chunks
    assert opening["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert opening["object"] == "chat.completion.chunk"
    assert opening["id"].startswith("chatcmpl-")
    assert len(tokens) == whole["usage"]["completion_tokens"]
    assert [chunk["choices"][0]["finish_reason"] for chunk in tokens[:-1]] == [None] * (
        len(tokens) - 1
    )
    assert tokens[-1]["choices"][0]["finish_reason"] == "stop"
    assert _content(chunks) == whole["choices"][0]["message"]["content"]
    assert all("usage" not in chunk for chunk in chunks), "no usage unless asked for"


async def test_include_usage_nulls_every_chunk_then_sends_the_total(
    client: httpx.AsyncClient,
) -> None:
    chunks = await _stream(client, CHAT, chat_body(n=2, stream_options={"include_usage": True}))
    *content, final = chunks
    assert all(chunk["usage"] is None for chunk in content)
    assert final["choices"] == []
    assert_conforms(final["usage"], USAGE)
    token_chunks = [chunk for chunk in content if "role" not in chunk["choices"][0]["delta"]]
    usage = final["usage"]
    assert usage["completion_tokens"] == len(token_chunks)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_continuous_usage_counts_the_tokens_of_each_choice_so_far(
    client: httpx.AsyncClient,
) -> None:
    options = {"include_usage": True, "continuous_usage_stats": True}
    chunks = await _stream(client, CHAT, chat_body(n=2, stream_options=options))
    *content, final = chunks
    seen = {0: 0, 1: 0}
    for chunk in content:
        choice = chunk["choices"][0]
        if "role" not in choice["delta"]:
            seen[choice["index"]] += 1
        assert chunk["usage"]["completion_tokens"] == seen[choice["index"]]
        assert chunk["usage"]["prompt_tokens"] == final["usage"]["prompt_tokens"]
    assert final["usage"]["completion_tokens"] == seen[0] + seen[1]


async def test_continuous_usage_alone_adds_nothing(client: httpx.AsyncClient) -> None:
    chunks = await _stream(client, CHAT, chat_body(stream_options={"continuous_usage_stats": True}))
    assert all("usage" not in chunk for chunk in chunks), "vLLM needs include_usage too"


async def test_choices_interleave_one_token_each_per_step(client: httpx.AsyncClient) -> None:
    chunks = await _stream(client, CHAT, chat_body(n=3, max_tokens=4))
    indexes = [chunk["choices"][0]["index"] for chunk in chunks]
    assert indexes == [0, 1, 2] * 5, "three role chunks, then four steps of three tokens"
    whole = (await client.post(CHAT, json=chat_body(n=3, max_tokens=4))).json()
    for choice in whole["choices"]:
        assert _content(chunks, choice["index"]) == choice["message"]["content"]


async def test_stop_string_in_a_stream_gives_the_same_text(client: httpx.AsyncClient) -> None:
    full = (await client.post(CHAT, json=chat_body())).json()["choices"][0]["message"]["content"]
    stop = full[9:13]
    chunks = await _stream(client, CHAT, chat_body(stop=stop))
    assert _content(chunks) == full[: full.index(stop)]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_streamed_logprobs_describe_the_chunk_token(client: httpx.AsyncClient) -> None:
    chunks = await _stream(client, CHAT, chat_body(logprobs=True, top_logprobs=1, max_tokens=5))
    for chunk in chunks[1:]:
        choice = chunk["choices"][0]
        (entry,) = choice["logprobs"]["content"]
        assert entry["token"] == choice["delta"]["content"]
        assert len(entry["top_logprobs"]) == 1


async def test_a_streamed_tool_call_names_the_function_then_streams_arguments(
    client: httpx.AsyncClient,
) -> None:
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    chunks = await _stream(client, CHAT, chat_body(tools=tools))
    calls = [chunk["choices"][0]["delta"]["tool_calls"][0] for chunk in chunks[1:]]
    assert calls[0]["function"] == {"name": "lookup", "arguments": ""}
    assert calls[0]["id"].startswith("chatcmpl-tool-")
    assert calls[0]["type"] == "function"
    assert "".join(call["function"]["arguments"] for call in calls[1:]) == "{}"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_completion_stream_has_no_role_chunk(client: httpx.AsyncClient) -> None:
    body = {"model": CHAT_MODEL, "prompt": "Once upon a time", "max_tokens": 6}
    whole = (await client.post(COMPLETIONS, json=body)).json()
    chunks = await _stream(client, COMPLETIONS, {**body, "stream_options": {"include_usage": True}})
    *content, final = chunks
    assert len(content) == 6
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert "".join(chunk["choices"][0]["text"] for chunk in content) == whole["choices"][0]["text"]
    assert content[-1]["choices"][0]["finish_reason"] == "length"
    assert all(chunk["usage"] is None for chunk in content)
    assert final["choices"] == []
    assert final["usage"] == whole["usage"]


async def test_completion_stream_logprobs_keep_text_offsets(client: httpx.AsyncClient) -> None:
    body = {"model": CHAT_MODEL, "prompt": "Once", "max_tokens": 5, "logprobs": 2}
    whole = (await client.post(COMPLETIONS, json=body)).json()["choices"][0]["logprobs"]
    chunks = await _stream(client, COMPLETIONS, body)
    offsets = [chunk["choices"][0]["logprobs"]["text_offset"][0] for chunk in chunks]
    assert offsets == whole["text_offset"]


@pytest.mark.parametrize("path", [CHAT, COMPLETIONS])
async def test_streams_are_logged_with_every_token(
    app: EngineApp, client: httpx.AsyncClient, path: str
) -> None:
    body = chat_body() if path == CHAT else {"model": CHAT_MODEL, "prompt": "Hi", "n": 2}
    response = await client.post(
        path,
        json={**body, "stream": True, "stream_options": {"include_usage": True}},
        headers={"x-request-id": "stream-1"},
    )
    usage = sse_events(response.text)[-2]["usage"]
    record = app.token_log.find("stream-1")
    assert record is not None
    assert record.stream
    assert record.status == "completed"
    assert record.completion_tokens == usage["completion_tokens"]
    assert record.prompt_tokens == usage["prompt_tokens"]
