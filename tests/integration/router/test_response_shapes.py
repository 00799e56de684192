"""Raw router responses, checked against the shapes of OpenAI's published schemas."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.integration.router.conftest import CHAT_MODEL, EMBED_MODEL, Stack
from tests.openai_shapes import (
    CHAT_CHUNK,
    CHAT_COMPLETION,
    COMPLETION,
    COMPLETION_CHUNK,
    EMBEDDINGS,
    MODEL,
    MODEL_LIST,
    OPENAI_ERROR,
    assert_conforms,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MESSAGES = [{"role": "user", "content": "Describe the tide."}]


def _post(stack: Stack, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{stack.v1}/{path}", json=body, headers={"authorization": f"Bearer {stack.tenant.key}"}
    )


def _events(response: httpx.Response) -> list[dict[str, object]]:
    frames = [frame for frame in response.text.split("\n\n") if frame]
    assert frames[-1] == "data: [DONE]"
    assert all(frame.startswith("data: ") for frame in frames)
    return [orjson.loads(frame.removeprefix("data: ")) for frame in frames[:-1]]


def test_chat_completion_shape(stack: Stack) -> None:
    response = _post(stack, "chat/completions", {"model": CHAT_MODEL, "messages": MESSAGES})
    assert_conforms(response.json(), CHAT_COMPLETION)


@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_chunk_shapes(stack: Stack, include_usage: bool) -> None:
    body: dict[str, object] = {"model": CHAT_MODEL, "messages": MESSAGES, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    response = _post(stack, "chat/completions", body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response)
    for event in events:
        assert_conforms(event, CHAT_CHUNK)
    assert (events[-1]["choices"] == []) is include_usage


def test_completion_shapes(stack: Stack) -> None:
    whole = _post(stack, "completions", {"model": CHAT_MODEL, "prompt": "Tides", "max_tokens": 4})
    assert_conforms(whole.json(), COMPLETION)
    streamed = _post(
        stack,
        "completions",
        {"model": CHAT_MODEL, "prompt": "Tides", "max_tokens": 4, "stream": True},
    )
    for event in _events(streamed):
        assert_conforms(event, COMPLETION_CHUNK)


def test_embeddings_and_models_shapes(stack: Stack) -> None:
    embeddings = _post(stack, "embeddings", {"model": EMBED_MODEL, "input": "sea"})
    assert_conforms(embeddings.json(), EMBEDDINGS)
    headers = {"authorization": f"Bearer {stack.tenant.key}"}
    assert_conforms(httpx.get(f"{stack.v1}/models", headers=headers).json(), MODEL_LIST)
    assert_conforms(httpx.get(f"{stack.v1}/models/{CHAT_MODEL}", headers=headers).json(), MODEL)


def test_error_shapes(stack: Stack) -> None:
    for response in (
        httpx.get(f"{stack.v1}/models"),
        _post(stack, "chat/completions", {"model": "missing", "messages": MESSAGES}),
        _post(stack, "chat/completions", {"messages": MESSAGES}),
    ):
        assert_conforms(response.json(), OPENAI_ERROR)
