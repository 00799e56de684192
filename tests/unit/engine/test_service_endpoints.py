"""Everything but generation: models, health, metrics, the token log, routing, request ids."""

from __future__ import annotations

import httpx
import orjson

from ias.engine import EngineApp, create_engine_app
from ias.kit.requestid import RequestIdMiddleware
from tests.asgi import lifespan
from tests.openai_shapes import ERROR, MODEL, MODEL_LIST, assert_conforms
from tests.unit.engine.support import (
    CHAT_MODEL,
    EMBED_MODEL,
    TEXT_MODEL,
    chat_body,
    engine_client,
    engine_config,
)

CHAT = "/v1/chat/completions"


async def test_models_are_listed_in_openai_shape(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/models")).json()
    assert_conforms(body, MODEL_LIST)
    assert [card["id"] for card in body["data"]] == [CHAT_MODEL, TEXT_MODEL, EMBED_MODEL]
    assert {card["owned_by"] for card in body["data"]} == {"ias"}


async def test_one_model_or_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/models/{EMBED_MODEL}")
    assert response.status_code == 200
    assert_conforms(response.json(), MODEL)
    assert response.json()["id"] == EMBED_MODEL
    missing = await client.get("/v1/models/nope")
    assert missing.status_code == 404
    assert_conforms(missing.json(), ERROR)
    assert missing.json()["error"]["type"] == "NotFoundError"


async def test_health_is_200_with_an_empty_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.content == b""


async def test_metrics_use_vllm_names_and_count_tokens(client: httpx.AsyncClient) -> None:
    usage = (await client.post(CHAT, json=chat_body())).json()["usage"]
    text = (await client.get("/metrics")).text
    label = f'{{model_name="{CHAT_MODEL}"}}'
    assert f"vllm:prompt_tokens_total{label} {float(usage['prompt_tokens'])}" in text
    assert f"vllm:generation_tokens_total{label} {float(usage['completion_tokens'])}" in text
    assert f"vllm:num_requests_running{label} 0.0" in text
    assert f"vllm:num_requests_waiting{label} 0.0" in text


async def test_each_engine_has_its_own_registry() -> None:
    async with (
        engine_client(engine_config()) as (first, first_client),
        engine_client(engine_config()) as (second, _),
    ):
        await first_client.post(CHAT, json=chat_body())
        sample = {"model_name": CHAT_MODEL}
        assert first.metrics.registry.get_sample_value("vllm:prompt_tokens_total", sample)
        assert second.metrics.registry.get_sample_value("vllm:prompt_tokens_total", sample) == 0


async def test_request_id_is_echoed_used_and_logged(
    app: EngineApp, client: httpx.AsyncClient
) -> None:
    response = await client.post(CHAT, json=chat_body(), headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["id"] == "chatcmpl-abc-123", "like vLLM, the id builds on it"
    record = app.token_log.find("abc-123")
    assert record is not None
    assert record.status == "completed"
    assert record.completion_tokens == response.json()["usage"]["completion_tokens"]
    assert record.model == CHAT_MODEL
    assert record.endpoint == CHAT
    assert not record.stream


async def test_behind_request_id_middleware_the_log_uses_its_id() -> None:
    app = create_engine_app(engine_config())
    transport = httpx.ASGITransport(app=RequestIdMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        response = await client.post(CHAT, json=chat_body())
    assert app.token_log.find(response.headers["x-request-id"]) is not None


async def test_without_a_request_id_one_is_made_up(client: httpx.AsyncClient) -> None:
    first = await client.post(CHAT, json=chat_body())
    second = await client.post(CHAT, json=chat_body())
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_token_log_over_http(client: httpx.AsyncClient) -> None:
    await client.post(CHAT, json=chat_body(), headers={"x-request-id": "one"})
    await client.post(CHAT, json=chat_body(max_tokens=2), headers={"x-request-id": "two"})
    rows = (await client.get("/mock/log")).json()
    assert [row["request_id"] for row in rows] == ["one", "two"]
    assert rows[1]["completion_tokens"] == 2
    assert rows[1]["status"] == "completed"
    assert set(rows[0]) >= {
        "request_id", "model", "endpoint", "prompt_tokens", "completion_tokens",
        "status", "started", "finished",
    }  # fmt: skip
    only = (await client.get("/mock/log", params={"request_id": "two"})).json()
    assert [row["request_id"] for row in only] == ["two"]
    assert (await client.delete("/mock/log")).json() == {"cleared": 2}
    assert (await client.get("/mock/log")).json() == []


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing")
    assert missing.status_code == 404
    assert_conforms(missing.json(), ERROR)
    wrong = await client.get(CHAT)
    assert wrong.status_code == 405


async def test_the_engine_works_mounted_under_a_prefix() -> None:
    app = create_engine_app(engine_config())
    transport = httpx.ASGITransport(app=app, root_path="/engine")
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        response = await client.post(f"/engine{CHAT}", content=orjson.dumps(chat_body()))
        assert response.status_code == 200


async def test_lifespan_starts_and_stops() -> None:
    async with lifespan(create_engine_app(engine_config())):
        pass
