"""The ledger consumer against real RabbitMQ and PostgreSQL: batches, poison messages, outages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from ias.analytics.consumer import Backoff, UsageConsumer
from ias.analytics.ledger import Ledger
from ias.contracts.usage import encode_batch
from ias.kit.db import Database
from ias.settings import AnalyticsSettings
from tests.integration.analytics.broker import dead_lettered_ids, publish, queue_depths
from tests.integration.analytics.proxy import CuttableProxy
from tests.integration.analytics.support import (
    EventFactory,
    assert_rollups_match_raw,
    count_events,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

SETTINGS = AnalyticsSettings(batch_max_events=500, batch_max_wait_ms=20, prefetch=50)
FAST_RETRIES = Backoff(first_seconds=0.05, max_seconds=0.4)


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def _running(consumer: UsageConsumer) -> AsyncIterator[UsageConsumer]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _rows_reach(db: Database, expected: int) -> None:
    async def reached() -> bool:
        return await count_events(db.engine) >= expected

    await _eventually(reached)


async def test_batches_are_stored_once_and_acknowledged(
    pg_database: Database, amqp_url: str
) -> None:
    factory = EventFactory(seed=21)
    batches = [factory.events(100) for _ in range(20)]
    # Redeliveries as the broker makes them: whole messages again, and an event twice in one.
    bodies = [encode_batch(batch) for batch in batches]
    bodies += [*bodies[:3], encode_batch([batches[5][0], batches[5][0], batches[6][1]])]
    await publish(amqp_url, bodies)

    consumer = UsageConsumer(Ledger(pg_database), amqp_url, SETTINGS)
    async with _running(consumer):
        await _rows_reach(pg_database, 2000)
        await _eventually(lambda: _settled(consumer, len(bodies)))

    assert await count_events(pg_database.engine) == 2000
    await assert_rollups_match_raw(pg_database.engine, 2000)
    assert await queue_depths(amqp_url) == (0, 0)
    assert consumer.stats.messages_dead_lettered == 0


async def _settled(consumer: UsageConsumer, messages: int) -> bool:
    stats = consumer.stats
    return stats.messages_acked + stats.messages_dead_lettered >= messages


async def test_a_poison_message_is_dead_lettered_and_the_queue_moves_on(
    pg_database: Database, amqp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    factory = EventFactory(seed=23)
    before, after = factory.events(50), factory.events(50)
    unfit = [*factory.events(3), factory.event(endpoint="e" * 100)]
    ids = await publish(
        amqp_url,
        [
            encode_batch(before),
            b"this is not a usage event",
            encode_batch(unfit),
            b'{"v": 2, "event_id": "x"}',
            encode_batch(after),
        ],
    )

    consumer = UsageConsumer(Ledger(pg_database), amqp_url, SETTINGS)
    with caplog.at_level(logging.WARNING, logger="ias.analytics.consumer"):
        async with _running(consumer):
            await _rows_reach(pg_database, 100)
            await _eventually(lambda: _settled(consumer, 5))

    assert await count_events(pg_database.engine) == 100
    await assert_rollups_match_raw(pg_database.engine, 100)
    assert sorted(await dead_lettered_ids(amqp_url)) == sorted([ids[1], ids[2], ids[3]])
    assert await queue_depths(amqp_url) == (0, 0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for message_id, reason in ((ids[1], "malformed"), (ids[2], "endpoint"), (ids[3], "version")):
        assert any(message_id in line and reason in line for line in warnings), warnings


async def test_a_database_outage_is_waited_out_and_nothing_is_lost_or_dead_lettered(
    postgres_url: str, pg_database: Database, amqp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = CuttableProxy()
    await proxy.start()
    through_proxy = Database.from_url(
        postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    )
    factory = EventFactory(seed=29)
    first, second = factory.events(400), factory.events(600)
    consumer = UsageConsumer(Ledger(through_proxy), amqp_url, SETTINGS, backoff=FAST_RETRIES)
    try:
        with caplog.at_level(logging.WARNING, logger="ias.analytics.consumer"):
            async with _running(consumer):
                await publish(
                    amqp_url, [encode_batch(first[i : i + 100]) for i in range(0, 400, 100)]
                )
                await _rows_reach(pg_database, 400)

                await proxy.cut()
                await publish(
                    amqp_url, [encode_batch(second[i : i + 100]) for i in range(0, 600, 100)]
                )

                async def retried() -> bool:
                    return consumer.stats.retries >= 3

                await _eventually(retried)
                assert await count_events(pg_database.engine) == 400
                await proxy.start()
                await _rows_reach(pg_database, 1000)
                await _eventually(lambda: _settled(consumer, 10))
    finally:
        await proxy.cut()
        await through_proxy.dispose()

    assert await count_events(pg_database.engine) == 1000
    await assert_rollups_match_raw(pg_database.engine, 1000)
    assert consumer.stats.messages_dead_lettered == 0
    assert await queue_depths(amqp_url) == (0, 0)
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == consumer.stats.retries
    assert all("dead-lettered" not in r.getMessage() for r in caplog.records)


async def test_stopping_while_the_database_is_away_hands_the_batch_back(
    postgres_url: str, pg_database: Database, amqp_url: str
) -> None:
    proxy = CuttableProxy()  # never started: every connection is refused
    unreachable = Database.from_url(
        postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    )
    await publish(amqp_url, [encode_batch(EventFactory(seed=31).events(100))] * 2)
    consumer = UsageConsumer(Ledger(unreachable), amqp_url, SETTINGS, backoff=FAST_RETRIES)
    try:
        async with _running(consumer):

            async def retried() -> bool:
                return consumer.stats.retries >= 2

            await _eventually(retried)
    finally:
        await unreachable.dispose()

    assert await queue_depths(amqp_url) == (2, 0)


async def test_a_broker_not_there_yet_at_start_is_waited_for(
    pg_database: Database, amqp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker starting before RabbitMQ answers keeps trying, then consumes as usual."""
    proxy = CuttableProxy(upstream_port=5672)  # not started yet: connections are refused
    through_proxy = amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    await publish(amqp_url, [encode_batch(EventFactory(seed=37).events(50))])
    consumer = UsageConsumer(Ledger(pg_database), through_proxy, SETTINGS, backoff=FAST_RETRIES)
    with caplog.at_level(logging.WARNING, logger="ias.analytics.consumer"):
        async with _running(consumer):
            await asyncio.sleep(0.5)
            assert "cannot reach RabbitMQ" in caplog.text
            await proxy.start()
            await _rows_reach(pg_database, 50)
    await proxy.cut()


async def test_stopping_before_the_broker_answers_ends_cleanly(pg_database: Database) -> None:
    consumer = UsageConsumer(
        Ledger(pg_database), "amqp://guest:guest@127.0.0.1:1/", SETTINGS, backoff=FAST_RETRIES
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 5)  # returns, no exception
