"""The usage ledger's metrics, scraped over HTTP as Prometheus would.

`Ledger.store` counts stored and duplicate events (so the embedded mode counts too), the
consumer counts dead-lettered events and database retries, and `ias worker usage` serves all
of them when IAS_ANALYTICS__METRICS_PORT is set. Each test asserts exact changes between a
scrape before and a scrape after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from ias.analytics.consumer import Backoff, UsageConsumer
from ias.analytics.ledger import Ledger
from ias.analytics.metrics import serve_metrics
from ias.contracts.usage import encode_batch
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.migrations import runner
from ias.settings import AnalyticsSettings
from tests.integration.analytics.broker import publish, queue_depths
from tests.integration.analytics.proxy import CuttableProxy
from tests.integration.analytics.support import EventFactory, count_events
from tests.integration.observability.test_control_metrics import Scrape
from tests.servers import free_port

IAS = Path(sys.executable).parent / "ias"
EVENTS = "ias_ledger_events_total"
BATCH = "ias_ledger_batch_events"
LAG = "ias_ledger_lag_seconds"
RETRIES = "ias_ledger_db_retries_total"
# One batch holds every message published before the consumer starts: it closes on size, and
# waiting for the deadline would take far longer than the messages take to arrive.
SETTINGS = AnalyticsSettings(batch_max_events=100, batch_max_wait_ms=5000, prefetch=50)


@pytest.fixture
async def pg_database(postgres_url: str) -> AsyncIterator[Database]:
    await runner.upgrade(postgres_url)
    db = Database.from_url(postgres_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="module")
def metrics_url() -> Iterator[str]:
    """This process's metrics, served the way `ias worker usage` serves them."""
    port = free_port()
    stop = serve_metrics("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/metrics"
    stop()


async def _scrape(url: str) -> Scrape:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    return Scrape(response.text)


def _delta(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def test_a_batch_stored_twice_counts_stored_then_duplicates(
    database: Database, metrics_url: str
) -> None:
    factory = EventFactory(seed=61, start=utcnow() - timedelta(hours=3))
    events = factory.events(50)
    batch = [*events, events[7]]  # one event repeated inside the batch
    oldest = min(event.ts for event in events).timestamp()
    ledger = Ledger(database)

    first = await _scrape(metrics_url)
    started = time.time()
    assert await ledger.store(batch) == 50
    finished = time.time()
    second = await _scrape(metrics_url)
    assert await ledger.store(batch) == 0
    finished_again = time.time()
    third = await _scrape(metrics_url)

    assert _delta(first, second, EVENTS, outcome="stored") == 50
    assert _delta(first, second, EVENTS, outcome="duplicate") == 1
    assert _delta(second, third, EVENTS, outcome="stored") == 0
    assert _delta(second, third, EVENTS, outcome="duplicate") == 51
    assert _delta(first, second, EVENTS, outcome="dead_lettered") == 0
    for before, after in ((first, second), (second, third)):
        assert _delta(before, after, f"{BATCH}_count") == 1
        assert _delta(before, after, f"{BATCH}_sum") == 51
        assert _delta(before, after, f"{BATCH}_bucket", le="50.0") == 0
        assert _delta(before, after, f"{BATCH}_bucket", le="100.0") == 1
    assert started - oldest <= second.value(LAG) <= finished - oldest
    # A batch of duplicates still says how far behind the events reaching the ledger are.
    assert finished - oldest <= third.value(LAG) <= finished_again - oldest
    assert third.value(LAG) > 3600


async def test_an_empty_batch_is_not_a_stored_batch(database: Database, metrics_url: str) -> None:
    before = await _scrape(metrics_url)
    assert await Ledger(database).store([]) == 0
    after = await _scrape(metrics_url)

    assert _delta(before, after, f"{BATCH}_count") == 0


@asynccontextmanager
async def _running(consumer: UsageConsumer) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _settled(consumer: UsageConsumer, messages: int) -> None:
    deadline = time.monotonic() + 20
    while consumer.stats.messages_acked + consumer.stats.messages_dead_lettered < messages:
        assert time.monotonic() < deadline, consumer.stats
        await asyncio.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_unfit_messages_are_counted_as_dead_lettered_events(
    pg_database: Database, amqp_url: str, metrics_url: str
) -> None:
    factory = EventFactory(seed=67)
    unfit = [*factory.events(3), factory.event(endpoint="e" * 100)]
    await publish(
        amqp_url,
        [
            encode_batch(factory.events(50)),
            b"this is not a usage event",
            encode_batch(unfit),
            encode_batch(factory.events(50)),
        ],
    )

    before = await _scrape(metrics_url)
    consumer = UsageConsumer(Ledger(pg_database), amqp_url, SETTINGS)
    async with _running(consumer):
        await _settled(consumer, 4)
    after = await _scrape(metrics_url)

    assert await count_events(pg_database.engine) == 100
    assert await queue_depths(amqp_url) == (0, 2)
    # The malformed message counts as one event, the unfit batch as its four.
    assert _delta(before, after, EVENTS, outcome="dead_lettered") == 5
    assert _delta(before, after, EVENTS, outcome="stored") == 100
    assert _delta(before, after, EVENTS, outcome="duplicate") == 0
    # The batch the unfit message spoiled was stored again message by message.
    assert _delta(before, after, f"{BATCH}_count") == 2
    assert _delta(before, after, f"{BATCH}_sum") == 100
    assert _delta(before, after, RETRIES) == 0


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_each_wait_for_the_database_counts_as_a_retry(
    postgres_url: str, amqp_url: str, metrics_url: str
) -> None:
    proxy = CuttableProxy()  # never started: every connection is refused
    unreachable = Database.from_url(
        postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    )
    await publish(amqp_url, [encode_batch(EventFactory(seed=71).events(10))])
    fast = Backoff(first_seconds=0.02, max_seconds=0.1)

    before = await _scrape(metrics_url)
    consumer = UsageConsumer(Ledger(unreachable), amqp_url, SETTINGS, backoff=fast)
    try:
        async with _running(consumer):
            deadline = time.monotonic() + 20
            while consumer.stats.retries < 3:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
    finally:
        await unreachable.dispose()
    after = await _scrape(metrics_url)

    assert _delta(before, after, RETRIES) == consumer.stats.retries >= 3
    for outcome in ("stored", "duplicate", "dead_lettered"):
        assert _delta(before, after, EVENTS, outcome=outcome) == 0
    assert await queue_depths(amqp_url) == (1, 0)


def _worker_env(home: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    env.update(IAS_HOME=str(home), IAS_MODE="production", IAS_LOG_FORMAT="text", **variables)
    return env


def _start_worker(env: dict[str, str], log: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(IAS), "worker", "usage"], env=env, stderr=log)


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_the_usage_worker_serves_its_metrics_when_given_a_port(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    await runner.upgrade(postgres_url)
    factory = EventFactory(seed=73)
    batches = [factory.events(100) for _ in range(3)]
    await publish(amqp_url, [encode_batch(batch) for batch in [*batches, batches[0]]])
    port = free_port()
    env = _worker_env(
        tmp_path,
        IAS_DATABASE_URL=postgres_url,
        IAS_RABBITMQ_URL=amqp_url,
        IAS_ANALYTICS__METRICS_PORT=str(port),
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = _start_worker(env, log)
        try:
            scrape = await _scrape_until_stored(worker, f"http://127.0.0.1:{port}/metrics", 300)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0, log_path.read_text()[-2000:]

    # A fresh process: its counters hold exactly what it did.
    assert scrape.value(EVENTS, outcome="stored") == 300
    assert scrape.value(EVENTS, outcome="duplicate") == 100
    assert scrape.value(EVENTS, outcome="dead_lettered") == 0
    assert scrape.value(f"{BATCH}_sum") == 400
    assert scrape.value(RETRIES) == 0
    assert scrape.value(LAG) > 0


async def _scrape_until_stored(worker: subprocess.Popen[bytes], url: str, events: int) -> Scrape:
    """Scrape the worker until it has stored `events` and settled the duplicate message."""
    deadline = time.monotonic() + 30
    while True:
        assert worker.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not store every event in time"
        try:
            scrape = await _scrape(url)
        except httpx.TransportError:  # not listening yet
            scrape = None
        if scrape is not None:
            settled = scrape.value(EVENTS, outcome="stored") + scrape.value(
                EVENTS, outcome="duplicate"
            )
            if settled >= events + 100:
                return scrape
        await asyncio.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_a_metrics_port_in_use_stops_the_worker_with_one_line(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    await runner.upgrade(postgres_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _worker_env(
            tmp_path,
            IAS_DATABASE_URL=postgres_url,
            IAS_RABBITMQ_URL=amqp_url,
            IAS_ANALYTICS__METRICS_PORT=str(port),
        )
        result = await asyncio.to_thread(
            subprocess.run,
            [str(IAS), "worker", "usage"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot serve metrics on 127.0.0.1:")
    assert str(port) in lines[0]
