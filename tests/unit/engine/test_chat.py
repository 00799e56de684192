"""`/v1/chat/completions` answers as OpenAI documents it and refuses what vLLM refuses."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from ias.engine import EngineApp
from ias.engine.tokenizer import count_tokens
from tests.openai_shapes import CHAT_COMPLETION, ERROR, assert_conforms
from tests.unit.engine.support import (
    CHAT_MODEL,
    EMBED_MODEL,
    chat_body,
    engine_client,
    engine_config,
)

CHAT = "/v1/chat/completions"
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time"}},
]


async def _chat(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(CHAT, json=chat_body(**fields))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_conforms(body, CHAT_COMPLETION)
    return body


async def _refused(client: httpx.AsyncClient, body: Any, status: int = 400) -> dict[str, Any]:
    response = await client.post(CHAT, content=orjson.dumps(body))
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()
    assert_conforms(error, ERROR)
    assert error["error"]["code"] == status
    return error["error"]


async def test_a_completion_has_openai_shape_and_usage(client: httpx.AsyncClient) -> None:
    body = await _chat(client)
    assert body["object"] == "chat.completion"
    assert body["model"] == CHAT_MODEL
    assert body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    usage = body["usage"]
    assert usage["completion_tokens"] == count_tokens(choice["message"]["content"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_prompt_tokens_follow_the_documented_template(client: httpx.AsyncClient) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello there"}]},
    ]
    response = await client.post(CHAT, json={"model": CHAT_MODEL, "messages": messages})
    # 2 for the generation prompt; per message 4 framing + role + content.
    assert response.json()["usage"]["prompt_tokens"] == 2 + (4 + 1 + 3) + (4 + 1 + 2)


async def test_same_request_same_text_and_seed_changes_it(client: httpx.AsyncClient) -> None:
    first = await _chat(client, seed=1)
    again = await _chat(client, seed=1)
    other = await _chat(client, seed=2)

    def text(body: dict[str, Any]) -> str:
        return str(body["choices"][0]["message"]["content"])

    assert text(first) == text(again)
    assert text(first) != text(other)
    assert first["id"] != again["id"]


async def test_temperature_and_unknown_fields_are_accepted(client: httpx.AsyncClient) -> None:
    plain = await _chat(client)
    tuned = await _chat(client, temperature=1.7, top_p=0.3, some_vendor_field={"x": 1})
    assert plain["choices"][0]["message"] == tuned["choices"][0]["message"]


async def test_max_tokens_cuts_with_length(client: httpx.AsyncClient) -> None:
    body = await _chat(client, max_tokens=3)
    assert body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["finish_reason"] == "length"
    newer = await _chat(client, max_completion_tokens=2, max_tokens=5)
    assert newer["usage"]["completion_tokens"] == 2


async def test_stop_string_ends_the_text_before_it(client: httpx.AsyncClient) -> None:
    full = (await _chat(client))["choices"][0]["message"]["content"]
    stop = full[8:12]
    body = await _chat(client, stop=[stop, "never-there"])
    choice = body["choices"][0]
    assert choice["message"]["content"] == full[: full.index(stop)]
    assert choice["finish_reason"] == "stop"


async def test_n_choices_are_distinct_and_all_counted(client: httpx.AsyncClient) -> None:
    body = await _chat(client, n=3)
    choices = body["choices"]
    assert [choice["index"] for choice in choices] == [0, 1, 2]
    assert len({choice["message"]["content"] for choice in choices}) == 3
    assert body["usage"]["completion_tokens"] == sum(
        count_tokens(choice["message"]["content"]) for choice in choices
    )


async def test_tools_give_a_call_of_the_first_tool(client: httpx.AsyncClient) -> None:
    body = await _chat(client, tools=TOOLS)
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("chatcmpl-tool-")
    assert call["function"] == {"name": "get_weather", "arguments": "{}"}
    assert body["usage"]["completion_tokens"] == 3


async def test_a_named_tool_choice_calls_that_tool(client: httpx.AsyncClient) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    body = await _chat(client, tools=TOOLS, tool_choice=named)
    choice = body["choices"][0]
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "get_time"
    assert choice["finish_reason"] == "stop", "OpenAI ends a named tool call with stop"


async def test_tool_choice_none_answers_in_text(client: httpx.AsyncClient) -> None:
    plain = await _chat(client)
    body = await _chat(client, tools=TOOLS, tool_choice="none")
    assert "tool_calls" not in body["choices"][0]["message"]
    assert body["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"], (
        "tools are in the prompt"
    )


async def test_json_mode_returns_a_json_object(client: httpx.AsyncClient) -> None:
    body = await _chat(client, response_format={"type": "json_object"})
    content = orjson.loads(body["choices"][0]["message"]["content"])
    assert isinstance(content, dict)


async def test_logprobs_cover_every_token(client: httpx.AsyncClient) -> None:
    body = await _chat(client, logprobs=True, top_logprobs=2)
    choice = body["choices"][0]
    entries = choice["logprobs"]["content"]
    assert len(entries) == body["usage"]["completion_tokens"]
    assert "".join(entry["token"] for entry in entries) == choice["message"]["content"]
    assert all(len(entry["top_logprobs"]) == 2 for entry in entries)
    assert choice["logprobs"]["refusal"] is None


async def test_prompt_over_the_context_window_is_400() -> None:
    async with engine_client(engine_config(max_model_len=32)) as (_, client):
        error = await _refused(client, chat_body("word " * 40))
        assert error["message"].startswith("This model's maximum context length is 32 tokens.")
        assert error["type"] == "BadRequestError"
        assert error["param"] == "input_tokens"
        error = await _refused(client, chat_body("hi", max_tokens=30))
        assert "'max_tokens' or 'max_completion_tokens' is too large: 30" in error["message"]


async def test_unknown_model_is_404_like_vllm(client: httpx.AsyncClient) -> None:
    error = await _refused(client, {**chat_body(), "model": "gpt-nope"}, 404)
    assert error == {
        "message": "The model `gpt-nope` does not exist.",
        "type": "NotFoundError",
        "param": "model",
        "code": 404,
    }


async def test_model_of_the_wrong_kind_is_400(client: httpx.AsyncClient) -> None:
    error = await _refused(client, {**chat_body(), "model": EMBED_MODEL})
    assert error["message"] == "The model does not support Chat Completions API"


async def test_missing_model_means_the_first_chat_model(client: httpx.AsyncClient) -> None:
    body = chat_body()
    del body["model"]
    response = await client.post(CHAT, json=body)
    assert response.json()["model"] == CHAT_MODEL


async def test_bad_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(CHAT, content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("JSON decode error")
    response = await client.post(CHAT, content=b"[1, 2]")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": 7}]}, "messages[0].content"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "ten"}, "max_tokens"),
        ({"n": 0}, "n"),
        ({"stop": 5}, "stop"),
        ({"seed": "x"}, "seed"),
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"tools": []}, "tools"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": {"function": {"name": "x"}}}, "tool_choice"),
        ({"tools": [{"type": "function"}]}, "tools[0].function.name"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"mock": {"explode": True}}, "mock"),
        ({"mock": {"fail_status": 200}}, "mock.fail_status"),
        ({"mock": {"delay": -1}}, "mock.delay"),
        ({"mock": "fail"}, "mock"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ],
)
async def test_invalid_fields_are_400_naming_the_field(
    client: httpx.AsyncClient, fields: dict[str, Any], param: str
) -> None:
    error = await _refused(client, {**chat_body(), **fields})
    assert error["param"] == param
    assert error["type"] == "BadRequestError"


async def test_refused_requests_are_logged_as_failed(
    app: EngineApp, client: httpx.AsyncClient
) -> None:
    await client.post(CHAT, json={**chat_body(), "n": 0}, headers={"x-request-id": "bad-1"})
    record = app.token_log.find("bad-1")
    assert record is not None
    assert (record.status, record.http_status, record.completion_tokens) == ("failed", 400, 0)
