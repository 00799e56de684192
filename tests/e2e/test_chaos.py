"""The slow tier of the fault scenarios: R1 to R8 at full length and scale, and real process kills.

Collected only by `make test-chaos` (IAS_CHAOS_TESTS=1). The invariants are the fast tier's;
what changes is how long a fault lasts, how many requests it meets, and how often it repeats:
a minute without the broker, a thousand clients hanging up, a consumer killed ten times, an
engine process killed mid-stream (its token log dies with it, so the client's own count of
the chunks it received is the oracle for those streams).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import httpx
import pytest

from ias.contracts.usage import encode_batch
from ias.router.publisher import RabbitPublisher
from tests.e2e.stack import INPUT_PRICE, OUTPUT_PRICE, EngineRecord, Stack
from tests.e2e.test_reliability import (
    RPM,
    admitted_while_redis_is_down,
    assert_rollups_match_raw,
    broker_outage,
    chat,
    disconnects,
    routers,
    synthetic_events,
)
from tests.e2e.traffic import Load, assert_billed_exactly, chat_body, stream

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]


@pytest.mark.timeout(360)
async def test_r1_a_minute_without_the_broker(stack: Stack) -> None:
    await broker_outage(stack, 60, hang=False)


@pytest.mark.timeout(300)
async def test_r1_half_a_minute_of_a_hung_broker(stack: Stack) -> None:
    await broker_outage(stack, 30, hang=True)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("hang", [False, True], ids=["stopped", "hung"])
async def test_r2_redis_away_again_and_again(stack: Stack, hang: bool) -> None:
    for _ in range(4):
        await admitted_while_redis_is_down(stack, stack.tenant(rpm_limit=RPM), hang=hang)


@pytest.mark.timeout(300)
async def test_r3_half_a_minute_without_the_database_under_load(stack: Stack) -> None:
    tenant = stack.tenant()
    stack.clear_engine_logs()
    load = Load(routers(stack), tenant.key, clients=8).start()
    await asyncio.sleep(2)
    for name in ("postgres-router", "postgres-control", "postgres-worker"):
        stack.proxies[name].reset()
    before = load.completed
    await asyncio.sleep(30)
    served_during_outage = load.completed - before
    stack.heal()
    await asyncio.sleep(2)
    await load.stop()
    assert load.failed == [], load.failed[:5]
    assert served_during_outage > 300
    records = stack.engine_records()
    rows = await stack.wait_for_rows(tenant.org_id, len(records), seconds=120)
    assert_billed_exactly(records, rows)


@pytest.mark.timeout(180)
async def test_r4_an_engine_process_killed_mid_stream(stack: Stack) -> None:
    """Streams on the killed engine end with an error event and no [DONE], each billed exactly
    the chunks its client received; the others finish; new requests go to the survivor."""
    tenant = stack.tenant()
    stack.clear_engine_logs()
    traces = [secrets.token_hex(16) for _ in range(12)]
    slow = chat_body(200, mock={"delay": 0.1})  # streams of several seconds
    async with httpx.AsyncClient(timeout=30) as client:
        streams = [
            asyncio.create_task(stream(client, url, tenant.key, slow, trace_id=trace))
            for url, trace in zip(routers(stack) * 6, traces, strict=True)
        ]
        await asyncio.sleep(1.5)
        engine = stack.engines["engine-a"]
        on_a, survivors = set(_by_trace(stack, "engine-a")), set(_by_trace(stack, "engine-b"))
        assert on_a | survivors == set(traces), "a stream had not reached an engine yet"
        assert engine.process is not None
        engine.process.kill()
        engine.process.wait()
        answers = dict(zip(traces, await asyncio.gather(*streams), strict=True))
        after = [await stream(client, url, tenant.key, chat_body(5)) for url in routers(stack)]
    assert all(answer.done for answer in after)
    cut = {trace: answer for trace, answer in answers.items() if trace in on_a}
    assert cut, "no stream was on the killed engine"
    for answer in cut.values():
        assert answer.error is not None, answer.events[-2:]
        assert not answer.done
    for trace in survivors:
        assert answers[trace].done
    rows = await stack.wait_for_rows(tenant.org_id, len(traces) + len(after))
    billed = {_hex(row["trace_id"]): row for row in rows.values()}
    for trace, answer in cut.items():
        assert billed[trace]["completion_tokens"] == answer.token_chunks, trace


def _by_trace(stack: Stack, engine: str) -> dict[str | None, EngineRecord]:
    return {
        record.trace_id: record
        for record in stack.engine_records().values()
        if record.engine == engine
    }


def _hex(trace_id: object) -> str:
    return str(trace_id).replace("-", "")


@pytest.mark.timeout(600)
async def test_r5_a_thousand_clients_hanging_up(stack: Stack) -> None:
    await disconnects(stack, count=1000, parallel=50)


@pytest.mark.timeout(600)
async def test_r6_a_hundred_thousand_events_duplicated_and_a_consumer_killed_ten_times(
    stack: Stack,
) -> None:
    tenant = stack.tenant()
    events = synthetic_events(tenant, 100_000)
    batches = [encode_batch(events[i : i + 1000]) for i in range(0, len(events), 1000)]
    stack.worker.stop()
    publisher = RabbitPublisher(stack.amqp_url)
    try:
        for body in batches + batches[::3]:
            await publisher.publish(body, 1000)
    finally:
        await publisher.close()
    for _ in range(10):
        stack.restart(stack.worker)
        await asyncio.sleep(1.5)
        stack.restart(stack.worker, kill=True)
    rows = await stack.wait_for_rows(tenant.org_id, len(events), seconds=300)
    assert len(rows) == len(events)
    await assert_rollups_match_raw(stack, tenant.org_id)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("limit", ["monthly_token_quota", "monthly_budget_usd"])
async def test_r7_bursts_never_overrun_a_quota_or_a_budget(stack: Stack, limit: str) -> None:
    body = chat_body(16, stream=False)
    async with httpx.AsyncClient(timeout=30) as client:
        probe = (await chat(client, stack.router_url(), stack.tenant().key, body)).json()
        tokens = probe["usage"]["total_tokens"]
        for _ in range(5):
            cost = _cost_of_one(probe["usage"])
            allowance = 5 * tokens if limit == "monthly_token_quota" else 5 * cost / 1e6
            tenant = stack.tenant({limit: allowance})
            answers = await asyncio.gather(
                *(chat(client, url, tenant.key, body) for url in routers(stack) * 50)
            )
            statuses = Counter(answer.status_code for answer in answers)
            assert set(statuses) <= {200, 429}, statuses
            assert 1 <= statuses[200] <= 5, statuses
            rows = await stack.wait_for_rows(tenant.org_id, statuses[200])
            if limit == "monthly_token_quota":
                used = sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows.values())
                assert used <= allowance
            else:
                assert sum(r["cost_micros"] for r in rows.values()) <= 5 * cost


def _cost_of_one(usage: dict[str, int]) -> int:
    """Micro-dollars, at the stack model's prices (USD per million tokens)."""
    micros = usage["prompt_tokens"] * INPUT_PRICE + usage["completion_tokens"] * OUTPUT_PRICE
    return round(micros)


@pytest.mark.timeout(400)
async def test_r8_routers_killed_again_and_again_under_load(stack: Stack) -> None:
    tenant = stack.tenant()
    stack.clear_engine_logs()
    load = Load(routers(stack), tenant.key, clients=12, max_tokens=40).start()
    for round_ in range(6):
        await asyncio.sleep(2)
        name = ("router-a", "router-b")[round_ % 2]
        stack.restart(stack.routers[name], kill=True)
    await asyncio.sleep(2)
    await load.stop()
    records = stack.engine_records()
    rows = await stack.wait_for_rows(tenant.org_id, len(records), seconds=120)
    assert_billed_exactly(records, rows, interrupted=records)
    assert load.completed > 0
