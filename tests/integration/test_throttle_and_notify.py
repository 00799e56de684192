"""The embedded and Redis throttles and notifiers mean the same thing (run on real Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_asyncio

from ias.kit.notify import MemoryNotifier, Notifier, RedisNotifier
from ias.kit.throttle import MemoryThrottle, RedisThrottle, Throttle
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_client() -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}; run `make services`")
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def throttle(request: pytest.FixtureRequest, redis_client: redis_asyncio.Redis) -> Throttle:
    if request.param == "memory":
        return MemoryThrottle()
    return RedisThrottle(redis_client, namespace=f"test:{uuid.uuid4().hex}:")


async def test_throttle_blocks_after_the_limit_and_reset_clears(throttle: Throttle) -> None:
    for _ in range(3):
        assert await throttle.retry_after("login:a@x", limit=3) is None
        await throttle.record("login:a@x", window_seconds=60)
    wait = await throttle.retry_after("login:a@x", limit=3)
    assert wait is not None
    assert 1 <= wait <= 60
    assert await throttle.retry_after("login:b@x", limit=3) is None
    await throttle.reset("login:a@x")
    assert await throttle.retry_after("login:a@x", limit=3) is None


async def test_throttle_window_expires(throttle: Throttle) -> None:
    await throttle.record("ip:1", window_seconds=1)
    assert await throttle.retry_after("ip:1", limit=1) is not None
    await asyncio.sleep(1.2)
    assert await throttle.retry_after("ip:1", limit=1) is None


async def test_throttle_counts_concurrent_failures_exactly(throttle: Throttle) -> None:
    counts = await asyncio.gather(*(throttle.record("burst", 60) for _ in range(50)))
    assert sorted(counts) == list(range(1, 51))


@pytest.fixture(params=["memory", "redis"])
async def notifiers(
    request: pytest.FixtureRequest, redis_client: redis_asyncio.Redis
) -> AsyncIterator[tuple[Notifier, Notifier]]:
    """Two notifiers standing for two processes (the memory one can only be one process)."""
    if request.param == "memory":
        shared = MemoryNotifier()
        yield shared, shared
        return
    namespace = f"test:{uuid.uuid4().hex}:"
    yield RedisNotifier(redis_client, namespace), RedisNotifier(redis_client, namespace)


async def test_a_published_message_reaches_every_subscriber(
    notifiers: tuple[Notifier, Notifier],
) -> None:
    publisher, listener = notifiers
    received: list[bytes] = []
    arrived = asyncio.Event()

    def handler(message: bytes) -> None:
        received.append(message)
        arrived.set()

    listener.subscribe("keys", handler)
    listener.subscribe("other", lambda _: pytest.fail("wrong channel"))
    await listener.start()
    await publisher.start()
    try:
        await publisher.publish("keys", b"revoked:123")
        await asyncio.wait_for(arrived.wait(), timeout=1)
    finally:
        await listener.close()
        await publisher.close()
    assert received == [b"revoked:123"]


async def test_a_failing_handler_does_not_stop_the_others(
    notifiers: tuple[Notifier, Notifier],
) -> None:
    publisher, listener = notifiers
    arrived = asyncio.Event()

    def broken(_: bytes) -> None:
        raise RuntimeError("handler bug")

    listener.subscribe("keys", broken)
    listener.subscribe("keys", lambda _: arrived.set())
    await listener.start()
    try:
        await publisher.publish("keys", b"x")
        await asyncio.wait_for(arrived.wait(), timeout=1)
    finally:
        await listener.close()
