"""`/v1/completions` (legacy) and `/v1/embeddings`: shapes, inputs, usage, refusals."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import pytest

from ias.engine.tokenizer import count_tokens
from tests.openai_shapes import COMPLETION, EMBEDDINGS, ERROR, assert_conforms
from tests.unit.engine.support import (
    CHAT_MODEL,
    EMBED_MODEL,
    TEXT_MODEL,
    engine_client,
    engine_config,
)

COMPLETIONS = "/v1/completions"
EMBEDDINGS_PATH = "/v1/embeddings"


async def _complete(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(COMPLETIONS, json={"model": TEXT_MODEL, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_conforms(body, COMPLETION)
    return body


async def _embed(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(EMBEDDINGS_PATH, json={"model": EMBED_MODEL, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_conforms(body, EMBEDDINGS)
    return body


async def test_completion_defaults_to_16_tokens_like_vllm(client: httpx.AsyncClient) -> None:
    body = await _complete(client, prompt="Once upon a time")
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-")
    (choice,) = body["choices"]
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 16, "total_tokens": 20}
    assert choice["finish_reason"] == "length"
    assert count_tokens(choice["text"]) == 16


async def test_chat_models_also_serve_completions(client: httpx.AsyncClient) -> None:
    response = await client.post(COMPLETIONS, json={"model": CHAT_MODEL, "prompt": "Hi"})
    assert response.status_code == 200


async def test_several_prompts_number_their_choices_prompt_by_prompt(
    client: httpx.AsyncClient,
) -> None:
    body = await _complete(client, prompt=["first prompt", "second"], n=2, max_tokens=40)
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2, 3]
    alone = await _complete(client, prompt="second", n=2, max_tokens=40)
    assert [choice["text"] for choice in body["choices"][2:]] == [
        choice["text"] for choice in alone["choices"]
    ]
    assert body["usage"]["prompt_tokens"] == 2 + 1


async def test_token_id_prompts_count_one_token_per_id(client: httpx.AsyncClient) -> None:
    body = await _complete(client, prompt=[[1, 2, 3], [4, 5]], max_tokens=2)
    assert body["usage"]["prompt_tokens"] == 5
    assert len(body["choices"]) == 2


async def test_completion_logprobs_use_the_legacy_shape(client: httpx.AsyncClient) -> None:
    body = await _complete(client, prompt="Hi", max_tokens=4, logprobs=3)
    logprobs = body["choices"][0]["logprobs"]
    assert len(logprobs["tokens"]) == len(logprobs["token_logprobs"]) == 4
    assert "".join(logprobs["tokens"]) == body["choices"][0]["text"]
    assert all(len(top) == 3 for top in logprobs["top_logprobs"])


@pytest.mark.parametrize(
    ("fields", "param", "status"),
    [
        ({"prompt": ""}, "prompt", 400),
        ({"prompt": [1, "a"]}, "prompt", 400),
        ({"prompt": "x", "logprobs": 21}, "logprobs", 400),
        ({"prompt": "x", "model": EMBED_MODEL}, "model", 400),
        ({"prompt": "x", "model": "missing"}, "model", 404),
    ],
)
async def test_bad_completion_requests_are_refused(
    client: httpx.AsyncClient, fields: dict[str, Any], param: str, status: int
) -> None:
    response = await client.post(COMPLETIONS, json={"model": TEXT_MODEL, **fields})
    assert response.status_code == status
    assert_conforms(response.json(), ERROR)
    assert response.json()["error"]["param"] == param


async def test_completion_prompt_over_the_window_is_400() -> None:
    async with engine_client(engine_config(max_model_len=8)) as (_, client):
        response = await client.post(
            COMPLETIONS, json={"model": TEXT_MODEL, "prompt": "one two three four five six"}
        )
        assert response.status_code == 400
        assert "maximum context length is 8 tokens" in response.json()["error"]["message"]


async def test_embeddings_are_deterministic_unit_vectors(client: httpx.AsyncClient) -> None:
    body = await _embed(client, input=["alpha", "beta", "alpha"])
    assert body["object"] == "list"
    assert body["model"] == EMBED_MODEL
    vectors = [item["embedding"] for item in body["data"]]
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(len(vector) == 32 for vector in vectors)
    assert all(math.isclose(math.hypot(*vector), 1.0) for vector in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


async def test_embedding_inputs_may_be_token_ids(client: httpx.AsyncClient) -> None:
    single = await _embed(client, input=[5, 6, 7])
    assert len(single["data"]) == 1
    assert single["usage"]["prompt_tokens"] == 3
    batch = await _embed(client, input=[[5, 6, 7], [8]])
    assert len(batch["data"]) == 2
    assert batch["usage"]["prompt_tokens"] == 4
    assert batch["data"][0]["embedding"] == single["data"][0]["embedding"]


async def test_base64_is_little_endian_float32_of_the_same_vector(
    client: httpx.AsyncClient,
) -> None:
    floats = (await _embed(client, input="hello world"))["data"][0]["embedding"]
    encoded = (await _embed(client, input="hello world", encoding_format="base64"))["data"][0]
    raw = base64.b64decode(encoded["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert len(decoded) == 32
    assert all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(decoded, floats, strict=True)
    )


async def test_dimensions_shorten_and_renormalise(client: httpx.AsyncClient) -> None:
    full = (await _embed(client, input="hello"))["data"][0]["embedding"]
    short = (await _embed(client, input="hello", dimensions=8))["data"][0]["embedding"]
    assert len(short) == 8
    assert math.isclose(math.hypot(*short), 1.0)
    scale = math.hypot(*full[:8])
    assert all(math.isclose(s * scale, f) for s, f in zip(short, full[:8], strict=True))


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": []}, "input"),
        ({"input": "x", "dimensions": 33}, "dimensions"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"input": "x", "model": CHAT_MODEL}, "model"),
    ],
)
async def test_bad_embedding_requests_are_400(
    client: httpx.AsyncClient, fields: dict[str, Any], param: str
) -> None:
    response = await client.post(EMBEDDINGS_PATH, json={"model": EMBED_MODEL, **fields})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_embedding_input_over_the_window_is_400() -> None:
    async with engine_client(engine_config(max_model_len=4)) as (_, client):
        response = await client.post(
            EMBEDDINGS_PATH, json={"model": EMBED_MODEL, "input": "a b c d e"}
        )
        assert response.status_code == 400
        assert "for embedding generation" in response.json()["error"]["message"]
