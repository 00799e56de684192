"""The engine's small parts: its config, the concurrency gate, the token log, error shapes."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from ias.engine import EngineConfig, EngineModel, RequestStatus, TokenLog, demo_config
from ias.engine.errors import EngineError, error_type
from ias.engine.gate import Gate


def test_demo_config_serves_a_chat_and_an_embedding_model() -> None:
    config = demo_config()
    assert [(model.name, model.kind) for model in config.models] == [
        ("demo-chat", "chat"),
        ("demo-embed", "embedding"),
    ]
    assert config.seconds_per_token == 0
    assert config.max_concurrency == 64


@pytest.mark.parametrize(
    "fields",
    [
        {"models": ()},
        {"models": (EngineModel("a"), EngineModel("a"))},
        {"seconds_per_token": -1.0},
        {"max_concurrency": 0},
        {"fail_status": 200},
        {"die_after_chunks": -1},
    ],
)
def test_config_refuses_nonsense(fields: dict[str, object]) -> None:
    arguments: dict[str, object] = {"models": (EngineModel("a"),), **fields}
    with pytest.raises(ValueError):  # noqa: PT011 - any of several messages
        EngineConfig(**arguments)  # type: ignore[arg-type]


def test_unknown_model_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        EngineModel("a", "image")  # type: ignore[arg-type]


def test_error_types_are_named_like_vllm_exceptions() -> None:
    assert error_type(400) == "BadRequestError"
    assert error_type(404) == "NotFoundError"
    assert error_type(500) == "InternalServerError"
    assert error_type(503) == "ServiceUnavailableError"
    assert error_type(429) == "TooManyRequestsError"
    body = orjson.loads(EngineError(400, "bad", param="n").body())
    assert body == {
        "error": {"message": "bad", "type": "BadRequestError", "param": "n", "code": 400}
    }


async def test_gate_admits_up_to_capacity_then_queues_in_order() -> None:
    gate = Gate(1)
    assert gate.try_enter()
    assert not gate.try_enter()
    order: list[int] = []

    async def wait(number: int) -> None:
        await gate.enter()
        order.append(number)

    waiters = [asyncio.create_task(wait(number)) for number in range(3)]
    await asyncio.sleep(0)
    assert order == []
    for _ in range(3):
        gate.leave()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    gate = Gate(1)
    assert gate.try_enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.leave()
    await asyncio.wait_for(second, 1)
    gate.leave()
    assert gate.try_enter(), "the slot is free again: nothing leaked"


async def test_a_waiter_cancelled_as_its_slot_arrives_passes_it_on() -> None:
    gate = Gate(1)
    assert gate.try_enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gate.leave()  # the slot goes to `first` ...
    first.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(second, 1)
    assert first.cancelled()
    gate.leave()
    assert gate.try_enter()


def test_token_log_records_finds_and_clears() -> None:
    log = TokenLog(max_records=2)
    first = log.start("a", "m", "/v1/completions", stream=False, prompt_tokens=3)
    log.failed("b", "m", "/v1/completions", 404)
    log.start("a", "m", "/v1/completions", stream=True, prompt_tokens=5)
    assert len(log) == 2, "the oldest record makes room"
    assert first not in log.records()
    found = log.find("a")
    assert found is not None
    assert found.stream
    assert found.status is RequestStatus.RUNNING
    failed = log.find("b")
    assert failed is not None
    assert failed.status is RequestStatus.FAILED
    assert failed.http_status == 404
    assert failed.finished is not None
    assert [row["request_id"] for row in orjson.loads(log.to_json("a"))] == ["a"]
    assert log.clear() == 2
    assert len(log) == 0
