"""The official `openai` SDK, sync and async, pointed at the router: it must not notice."""

from __future__ import annotations

import json

import openai
import pytest

from tests.integration.router.conftest import CHAT_MODEL, EMBED_MODEL, Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MESSAGES = [{"role": "user", "content": "Say something about the sea."}]


@pytest.fixture
def sdk(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.v1, api_key=stack.tenant.key, max_retries=0)


@pytest.fixture
def async_sdk(stack: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=stack.v1, api_key=stack.tenant.key, max_retries=0)


def test_chat_completion(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=12)
    assert completion.model == CHAT_MODEL  # the public name, not the backend's
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.completion_tokens <= 12
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_streamed_chat_without_usage_has_no_usage_chunk(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=8, stream=True)
    )
    assert all(chunk.choices for chunk in chunks), "the router's usage-only chunk leaked"
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.model == CHAT_MODEL for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text


def test_streamed_chat_with_usage_ends_with_the_usage_chunk(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model=CHAT_MODEL,
            messages=MESSAGES,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *content, last = chunks
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == sum(
        1 for chunk in content if chunk.choices and chunk.choices[0].delta.content
    )
    assert all(chunk.usage is None for chunk in content)


def test_completions_and_embeddings(sdk: openai.OpenAI) -> None:
    completion = sdk.completions.create(model=CHAT_MODEL, prompt="Once upon a time", max_tokens=5)
    assert completion.choices[0].text
    assert completion.usage is not None
    embedding = sdk.embeddings.create(model=EMBED_MODEL, input=["a", "b"])
    assert len(embedding.data) == 2
    assert len(embedding.data[0].embedding) > 0
    assert embedding.usage.prompt_tokens > 0


def test_models_list_and_retrieve(sdk: openai.OpenAI) -> None:
    names = {model.id for model in sdk.models.list()}
    assert {CHAT_MODEL, EMBED_MODEL} <= names
    assert sdk.models.retrieve(CHAT_MODEL).id == CHAT_MODEL
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")


def test_tools_response_format_and_logprobs_pass_through(sdk: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}},
        }
    ]
    called = sdk.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, tools=tools)
    call = called.choices[0].message.tool_calls
    assert call is not None
    assert call[0].function.name == "get_weather"
    as_json = sdk.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, response_format={"type": "json_object"}
    )
    json.loads(as_json.choices[0].message.content or "")
    with_logprobs = sdk.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, logprobs=True, top_logprobs=2, max_tokens=4
    )
    logprobs = with_logprobs.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.content


def test_error_classes(stack: Stack, sdk: openai.OpenAI) -> None:
    bad_key = openai.OpenAI(base_url=stack.v1, api_key="ias_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.models.list()
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.chat.completions.create(model="gpt-nope", messages=MESSAGES)
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, n=1000)
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=10**6)


async def test_async_client_streams(async_sdk: openai.AsyncOpenAI) -> None:
    stream = await async_sdk.chat.completions.create(
        model=CHAT_MODEL,
        messages=MESSAGES,
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None
    completion = await async_sdk.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=3
    )
    assert completion.usage is not None
    await async_sdk.close()
