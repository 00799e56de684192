"""Ingest: how fast `ias worker usage` moves a backlog from RabbitMQ into PostgreSQL.

Each round stops the worker, queues `events` new events (in the routers' batches of 1,000),
starts the worker and times it from the first new row stored to the last, so neither the
publishing nor the worker's start-up is counted.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg

from bench.router.procstat import cpu_seconds
from bench.router.runner import say
from bench.router.stats import median
from bench.usage.setup import READY_SECONDS, UsageStack
from ias.contracts.ledger_topology import ROUTING_KEY, declare_topology
from ias.contracts.usage import BATCH_CONTENT_TYPE, MAX_BATCH_EVENTS, UsageEvent, encode_batch
from ias.kit.ids import uuid7

ORGS, KEYS_PER_ORG, MODELS = 20, 5, ("bench-chat", "bench-embed", "bench-code")


def _events(count: int) -> list[UsageEvent]:
    """Spread over orgs, keys and models as real traffic would be, all in the current minute."""
    orgs = [uuid.uuid4() for _ in range(ORGS)]
    keys = [(org, uuid.uuid4()) for org in orgs for _ in range(KEYS_PER_ORG)]
    now = datetime.now(UTC)
    events = []
    for n in range(count):
        org, key = keys[n % len(keys)]
        events.append(
            UsageEvent(
                event_id=uuid7(),
                ts=now,
                org_id=org,
                user_id=None,
                api_key_id=key,
                model=MODELS[n % len(MODELS)],
                backend_id=None,
                endpoint="chat/completions",
                http_status=200 if n % 50 else 429,
                error_type=None if n % 50 else "rate_limit_exceeded",
                prompt_tokens=30 + n % 17,
                completion_tokens=16,
                cached_tokens=0,
                cost_micros=13,
                latency_ms=12,
                ttft_ms=3,
                stream=bool(n % 2),
                partial=False,
            )
        )
    return events


async def _publish(url: str, events: list[UsageEvent]) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_topology(channel)
        batches = [
            events[start : start + MAX_BATCH_EVENTS]
            for start in range(0, len(events), MAX_BATCH_EVENTS)
        ]
        for group in range(0, len(batches), 32):  # 32 confirms in flight at a time
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            encode_batch(batch),
                            content_type=BATCH_CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=ROUTING_KEY,
                    )
                    for batch in batches[group : group + 32]
                )
            )
    finally:
        await connection.close()


async def _count(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM usage_events"))


async def _one_round(
    stack: UsageStack, connection: asyncpg.Connection, events: int
) -> tuple[float, float]:
    """(events/s, worker CPU µs per event) of one round."""
    stack.worker.stop()
    before = await _count(connection)
    await _publish(stack.amqp_url, _events(events))
    stack.worker.start()
    cpu_before: float | None = None
    deadline = time.monotonic() + READY_SECONDS + events / 1000
    first = last = 0.0
    while time.monotonic() < deadline:
        stored = await _count(connection) - before
        now = time.monotonic()
        if stored and not first:
            first, cpu_before = now, cpu_seconds(stack.worker.pid)
        if stored >= events:
            last = now
            break
        await asyncio.sleep(0.02)
    if not last:
        raise SystemExit(
            f"the worker stored fewer than {events} events:\n{stack.worker.log_tail()}"
        )
    cpu_us = (cpu_seconds(stack.worker.pid) - (cpu_before or 0.0)) / events * 1e6
    rate = events / max(last - first, 1e-6)
    say(f"ingest: {rate:,.0f} events/s ({cpu_us:.1f} µs of worker CPU per event)")
    return rate, cpu_us


async def measure_ingest(stack: UsageStack, rounds: int, events: int) -> dict[str, object]:
    connection = await asyncpg.connect(stack.db.url.replace("+asyncpg", ""))
    try:
        results = [await _one_round(stack, connection, events) for _ in range(rounds)]
    finally:
        await connection.close()
    rates = [rate for rate, _ in results]
    return {
        "rounds": [round(rate) for rate in rates],
        "median_events_per_s": median(rates),
        "events_per_round": events,
        "cpu_us_per_event": round(median([cpu for _, cpu in results]), 1),
    }
