"""The fault scenarios R1 to R8 of the reliability bars, on the production-shaped stack.

Each test breaks one thing the way production breaks it — a link reset or blackholed by a
fault proxy, a process killed — while real clients call both routers, and then checks the
scenario's figures against the engines' own token logs. This is the fast tier: every scenario
at a scale that fits `make test`; `test_chaos.py` runs the long and large versions.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from ias.contracts.usage import UsageEvent, encode_batch
from ias.engine.tokenlog import RequestStatus
from ias.router.publisher import RabbitPublisher
from ias.router.usage import INTERRUPTED_ERROR
from tests.e2e.stack import MODEL, Stack, Tenant
from tests.e2e.traffic import Load, assert_billed_exactly, chat_body, stream

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]


def routers(stack: Stack) -> list[str]:
    return [stack.router_url(name) for name in stack.routers]


async def chat(client: httpx.AsyncClient, url: str, key: str, body: bytes) -> httpx.Response:
    return await client.post(
        f"{url}/v1/chat/completions", content=body, headers={"authorization": f"Bearer {key}"}
    )


# --- R1: the broker goes away under streaming load ---------------------------------------------


async def broker_outage(stack: Stack, seconds: float, *, hang: bool) -> None:
    """R1's body at any length: streaming load on both routers while the broker link is reset
    (a stopped broker) or blackholed (a hung one); then 0 lost, 0 double, serving went on."""
    tenant = stack.tenant()
    stack.clear_engine_logs()
    load = Load(routers(stack), tenant.key, clients=8).start()
    await asyncio.sleep(1)
    (stack.proxies["rabbitmq"].blackhole if hang else stack.proxies["rabbitmq"].reset)()
    before = load.completed
    await asyncio.sleep(seconds)
    served_during_outage = load.completed - before
    stack.proxies["rabbitmq"].heal()
    await asyncio.sleep(2)
    await load.stop()

    assert load.failed == [], load.failed[:5]  # serving never stopped
    assert served_during_outage >= 10 * seconds  # and did not slow to a crawl
    records = stack.engine_records()
    assert all(record.status is RequestStatus.COMPLETED for record in records.values())
    rows = await stack.wait_for_rows(tenant.org_id, len(records), seconds=90)
    assert len(records) == load.completed
    assert_billed_exactly(records, rows)


@pytest.mark.timeout(180)
async def test_r1_a_stopped_broker_loses_and_doubles_nothing(stack: Stack) -> None:
    await broker_outage(stack, 10, hang=False)


@pytest.mark.timeout(180)
async def test_r1_a_hung_broker_loses_and_doubles_nothing(stack: Stack) -> None:
    await broker_outage(stack, 10, hang=True)


# --- R2: Redis stopped or hung ------------------------------------------------------------------

RPM = 30
CONCURRENCY = 3


def degraded(stack: Stack, router: str) -> float:
    return stack.metric(stack.routers[router], "ias_router_limiter_degraded")


async def wait_until_recovered(stack: Stack, key: str, seconds: float = 15.0) -> None:
    """Both routers limit on Redis again, without a restart. A router looks for Redis again
    when a request needs it (at most once a second), so requests keep coming meanwhile."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as client:
        while any(degraded(stack, name) for name in stack.routers):
            assert time.monotonic() < deadline, "a router still limits locally; Redis is back"
            for url in routers(stack):
                await chat(client, url, key, chat_body(1, stream=False))
            await asyncio.sleep(0.2)


async def admitted_while_redis_is_down(stack: Stack, tenant: Tenant, *, hang: bool) -> None:
    body = chat_body(1, stream=False)
    async with httpx.AsyncClient(timeout=30) as client:
        for url in routers(stack):  # both routers know the key and count each other
            assert (await chat(client, url, tenant.key, body)).status_code == 200
        proxy = stack.proxies["redis"]
        (proxy.blackhole if hang else proxy.reset)()
        first_window = int(time.time() // 60)
        statuses: Counter[int] = Counter()
        slowest = 0.0
        for _ in range(8):  # waves of concurrent requests, alternating routers
            started = time.monotonic()
            answers = await asyncio.gather(
                *(chat(client, url, tenant.key, body) for url in routers(stack) * 10)
            )
            slowest = max(slowest, time.monotonic() - started)
            statuses.update(answer.status_code for answer in answers)
        windows = int(time.time() // 60) - first_window + 1
        assert all(degraded(stack, name) == 1 for name in stack.routers)
        proxy.heal()
    assert set(statuses) <= {200, 429}, statuses
    # Local fallback at limit ÷ replicas on each router: never unlimited, never closed.
    assert 0 < statuses[200] <= math.ceil((1 + 1 / len(stack.routers)) * RPM) * windows, statuses
    assert slowest < 2.0, f"a wave waited {slowest:.2f} s on a {'hung' if hang else 'dead'} Redis"
    await wait_until_recovered(stack, tenant.key)


@pytest.mark.parametrize("hang", [False, True], ids=["stopped", "hung"])
async def test_r2_rates_fail_open_within_the_bound_and_recover(stack: Stack, hang: bool) -> None:
    await admitted_while_redis_is_down(stack, stack.tenant(rpm_limit=RPM), hang=hang)


async def test_r2_no_concurrency_slot_is_leaked(stack: Stack) -> None:
    """Streams admitted on Redis end while it is unreachable; once it is back, the key has all
    its slots again (their releases were replayed), and no more."""
    tenant = stack.tenant(concurrency_limit=CONCURRENCY)
    slow = chat_body(40, mock={"delay": 0.03})  # 1.2 s streams
    async with httpx.AsyncClient(timeout=30) as client:
        urls = routers(stack)
        held = [
            asyncio.create_task(stream(client, urls[i % 2], tenant.key, slow))
            for i in range(CONCURRENCY)
        ]
        await asyncio.sleep(0.5)
        stack.proxies["redis"].blackhole()
        ended = await asyncio.gather(*held)  # their slots are released while Redis is away
        assert [answer.status for answer in ended] == [200] * CONCURRENCY
        stack.proxies["redis"].heal()
        await wait_until_recovered(stack, tenant.key)
        await asyncio.sleep(0.5)  # the replayed releases

        again = [
            asyncio.create_task(stream(client, urls[i % 2], tenant.key, slow))
            for i in range(CONCURRENCY)
        ]
        await asyncio.sleep(0.4)
        extra = await stream(client, urls[0], tenant.key, slow)
        answers = await asyncio.gather(*again)
    assert [answer.status for answer in answers] == [200] * CONCURRENCY, "a slot leaked"
    assert extra.status == 429, "a slot was counted twice"


# --- R3: PostgreSQL stopped ---------------------------------------------------------------------


@pytest.mark.timeout(180)
async def test_r3_without_the_database_known_keys_work_unknown_keys_get_503(stack: Stack) -> None:
    known, stranger = stack.tenant(), stack.tenant()
    stack.clear_engine_logs()
    body = chat_body(5, stream=False)
    async with httpx.AsyncClient(timeout=30) as client:
        for url in routers(stack):
            assert (await chat(client, url, known.key, body)).status_code == 200
        for name in ("postgres-router", "postgres-control", "postgres-worker"):
            stack.proxies[name].reset()
        during = [await chat(client, url, known.key, body) for url in routers(stack) * 10]
        unknown = [await chat(client, url, stranger.key, body) for url in routers(stack)]
        await asyncio.sleep(3)  # the worker meets the outage with events to store
        stack.heal()
    assert [answer.status_code for answer in during] == [200] * 20
    assert [answer.status_code for answer in unknown] == [503, 503]
    assert all(answer.json()["error"]["message"] for answer in unknown)
    records = stack.engine_records()
    rows = await stack.wait_for_rows(known.org_id, len(records), seconds=60)
    assert len(records) == 22
    assert_billed_exactly(records, rows)  # the consumer held its messages and resumed
    assert await stack.rows(stranger.org_id) == {}


# --- R4: a backend killed mid-stream or hung ----------------------------------------------------


async def test_r4_a_backend_dying_mid_stream_ends_it_with_an_error_and_bills_what_was_sent(
    stack: Stack,
) -> None:
    tenant = stack.tenant()
    stack.clear_engine_logs()
    async with httpx.AsyncClient(timeout=30) as client:
        died = await stream(
            client, stack.router_url(), tenant.key, chat_body(30, mock={"die_after": 7})
        )
        hung = await stream(
            client, stack.router_url(), tenant.key, chat_body(30, mock={"hang_after": 4})
        )
    for answer, sent in ((died, 7), (hung, 4)):
        assert answer.status == 200
        assert answer.token_chunks == sent
        assert answer.error is not None, answer.events[-2:]  # an SSE error event...
        assert not answer.done  # ...and no [DONE]: the client knows the answer is cut
    records = stack.engine_records()
    assert sorted(record.completion_tokens for record in records.values()) == [4, 7]
    rows = await stack.wait_for_rows(tenant.org_id, 2)
    assert_billed_exactly(records, rows)  # one engine saw each: no failover after bytes
    assert all(row["partial"] for row in rows.values())


@pytest.mark.parametrize("fault", ["reset", "blackhole"])
async def test_r4_failover_happens_before_the_first_byte(stack: Stack, fault: str) -> None:
    tenant = stack.tenant()
    stack.clear_engine_logs()
    getattr(stack.proxies["engine-a"], fault)()
    async with httpx.AsyncClient(timeout=30) as client:
        answers = [
            await stream(client, url, tenant.key, chat_body(5)) for url in routers(stack) * 5
        ]
    assert [(answer.status, answer.done) for answer in answers] == [(200, True)] * 10
    records = stack.engine_records()
    assert {record.engine for record in records.values()} == {"engine-b"}
    rows = await stack.wait_for_rows(tenant.org_id, 10)
    assert_billed_exactly(records, rows)


# --- R5: clients that hang up mid-stream ---------------------------------------------------------


async def disconnects(stack: Stack, count: int, parallel: int) -> None:
    """`count` streams, each cut by its client after a random number of chunks: exactly one
    event per request, billed = what the engine handed over, and the engine's side of each
    stream closed within a second of the client's."""
    tenant = stack.tenant()
    stack.clear_engine_logs()
    rng = random.Random(11)
    closed_at: dict[str, float] = {}
    semaphore = asyncio.Semaphore(parallel)
    urls = routers(stack)

    async def one(index: int, client: httpx.AsyncClient) -> None:
        trace_id, cut = secrets.token_hex(16), rng.randint(0, 24)
        async with semaphore:
            body = chat_body(30, mock={"delay": 0.01})
            answer = await stream(
                client, urls[index % 2], tenant.key, body, stop_after=cut, trace_id=trace_id
            )
            closed_at[trace_id] = time.time()
            assert answer.status == 200

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        await asyncio.gather(*(one(index, c) for index in range(count)))
    await asyncio.sleep(1.5)
    records = stack.engine_records()
    assert len(records) == count
    late = []
    for record in records.values():
        assert record.trace_id in closed_at, record
        assert record.finished is not None, f"the engine still streams {record.request_id}"
        if record.finished - closed_at[record.trace_id] > 1.0:
            late.append(record)
    assert not late, f"{len(late)} upstream streams outlived their client by > 1 s: {late[:3]}"
    rows = await stack.wait_for_rows(tenant.org_id, count)
    assert len(rows) == count
    assert_billed_exactly(records, rows)


@pytest.mark.timeout(180)
async def test_r5_clients_hanging_up_at_random_points(stack: Stack) -> None:
    await disconnects(stack, count=200, parallel=20)


# --- R6: duplicate deliveries, a consumer killed mid-batch -------------------------------------


def synthetic_events(tenant: Tenant, count: int) -> list[UsageEvent]:
    now = datetime.now(UTC)
    return [
        UsageEvent(
            event_id=uuid.uuid4(),
            ts=now,
            org_id=uuid.UUID(tenant.org_id),
            user_id=None,
            api_key_id=uuid.UUID(tenant.key_id),
            model=MODEL,
            backend_id=None,
            endpoint="chat/completions",
            http_status=200,
            error_type=None,
            prompt_tokens=1 + index % 7,
            completion_tokens=index % 13,
            cached_tokens=0,
            cost_micros=index % 5,
            latency_ms=10,
            ttft_ms=None,
            stream=False,
            partial=False,
        )
        for index in range(count)
    ]


async def assert_rollups_match_raw(stack: Stack, org_id: str) -> None:
    raw = await stack.fetch(
        "SELECT count(*) AS requests, sum(prompt_tokens) AS prompt, "
        "sum(completion_tokens) AS completion, sum(cost_micros) AS cost "
        "FROM usage_events WHERE org_id = $1::uuid",
        org_id,
    )
    rolled = await stack.fetch(
        "SELECT granularity, sum(requests) AS requests, sum(prompt_tokens) AS prompt, "
        "sum(completion_tokens) AS completion, sum(cost_micros) AS cost "
        "FROM usage_rollups WHERE org_id = $1::uuid GROUP BY granularity",
        org_id,
    )
    expected = dict(raw[0])
    assert {row["granularity"]: dict(row) | {"granularity": None} for row in rolled} == {
        granularity: expected | {"granularity": None} for granularity in ("minute", "hour", "day")
    }


@pytest.mark.timeout(180)
async def test_r6_duplicates_and_a_killed_consumer_leave_one_row_per_event(stack: Stack) -> None:
    tenant = stack.tenant()
    events = synthetic_events(tenant, 20_000)
    batches = [encode_batch(events[i : i + 1000]) for i in range(0, len(events), 1000)]
    stack.worker.stop()
    publisher = RabbitPublisher(stack.amqp_url)
    try:
        for body in batches + batches[:7] + batches[3:5]:  # some batches two or three times
            await publisher.publish(body, 1000)
    finally:
        await publisher.close()
    for _ in range(3):  # killed mid-batch, again and again, while the backlog drains
        stack.restart(stack.worker)
        await asyncio.sleep(1.2)
        stack.restart(stack.worker, kill=True)
    rows = await stack.wait_for_rows(tenant.org_id, len(events), seconds=90)
    assert set(rows) == {str(event.event_id) for event in events}
    await assert_rollups_match_raw(stack, tenant.org_id)


# --- R7: a quota under a burst -------------------------------------------------------------------


async def test_r7_fifty_parallel_requests_never_overrun_a_quota_for_five(stack: Stack) -> None:
    body = chat_body(16, stream=False)
    async with httpx.AsyncClient(timeout=30) as client:
        probe = await chat(client, stack.router_url(), stack.tenant().key, body)
        usage = probe.json()["usage"]
        quota = 5 * usage["total_tokens"]
        tenant = stack.tenant({"monthly_token_quota": quota})
        answers = await asyncio.gather(
            *(chat(client, url, tenant.key, body) for url in routers(stack) * 25)
        )
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 429}, statuses
    assert 1 <= statuses[200] <= 5, statuses
    refused = [answer.json()["error"] for answer in answers if answer.status_code == 429]
    assert {error["code"] for error in refused} == {"insufficient_quota"}
    rows = await stack.wait_for_rows(tenant.org_id, statuses[200])
    billed = sum(row["prompt_tokens"] + row["completion_tokens"] for row in rows.values())
    assert billed <= quota


# --- R8: a router killed with SIGKILL under load ------------------------------------------------


@pytest.mark.timeout(180)
async def test_r8_a_killed_router_leaves_no_generated_tokens_unbilled(stack: Stack) -> None:
    tenant = stack.tenant()
    stack.clear_engine_logs()
    load = Load(routers(stack), tenant.key, clients=12, max_tokens=40).start()
    await asyncio.sleep(2)
    stack.restart(stack.routers["router-a"], kill=True)  # same home: same spool and journal
    await asyncio.sleep(2)
    await load.stop()
    records = stack.engine_records()
    rows = await stack.wait_for_rows(tenant.org_id, len(records), seconds=60)
    # Streams in flight on the killed router were billed from its journal, as interrupted.
    assert_billed_exactly(records, rows, interrupted=records)
    interrupted = [rid for rid, row in rows.items() if row["error_type"] == INTERRUPTED_ERROR]
    assert 0 < len(interrupted) <= 6  # at most what router-a had in flight, its 6 clients
    assert load.completed > 0
