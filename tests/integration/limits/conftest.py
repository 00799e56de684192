"""Limiters under test: the memory one and the Redis one behind one factory, so a single
suite checks that both mean the same thing; plus a private redis-server for failure tests.

Every Redis test works under its own random key prefix on the shared server and, on the way
out, checks that no key it left behind lacks an expiry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis.asyncio as redis_asyncio

from ias.limits import Limiter, MemoryLimiter, RedisLimiter, redis_limiter_client
from tests.conftest import REDIS_URL
from tests.integration.limits.own_redis import OwnRedis

# Generous: these tests run beside other suites on a loaded machine; the failure-policy tests
# build their own clients with the production timeout.
TEST_TIMEOUT_SECONDS = 2.0


class LimiterFactory(Protocol):
    kind: str

    def __call__(self, **options: Any) -> Limiter: ...


@pytest.fixture
async def redis_client() -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}; run `make services`")
    yield client
    await client.aclose()


async def keys_under(client: redis_asyncio.Redis, prefix: str) -> list[bytes]:
    return [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]


async def assert_every_key_expires(client: redis_asyncio.Redis, prefix: str) -> None:
    for key in await keys_under(client, prefix):
        assert await client.ttl(key) != -1, f"{key!r} has no expiry"


@pytest.fixture
async def prefix(redis_client: redis_asyncio.Redis) -> AsyncIterator[str]:
    name = f"test:limits:{uuid.uuid4().hex}:"
    yield name
    await assert_every_key_expires(redis_client, name)
    keys = await keys_under(redis_client, name)
    if keys:
        await redis_client.delete(*keys)


class _Factory:
    def __init__(self, kind: str, prefix: str) -> None:
        self.kind = kind
        self.prefix = prefix
        self.made: list[Limiter] = []

    def __call__(self, **options: Any) -> Limiter:
        limiter: Limiter
        if self.kind == "memory":
            limiter = MemoryLimiter(**options)
        else:
            client = redis_limiter_client(REDIS_URL, timeout_seconds=TEST_TIMEOUT_SECONDS)
            limiter = RedisLimiter(client, prefix=self.prefix, **options)
        self.made.append(limiter)
        return limiter


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[_Factory]:
    """Builds limiters of one kind; Redis ones built by one test share counters (one prefix)."""
    factory = _Factory(request.param, prefix)
    yield factory
    for limiter in factory.made:
        await limiter.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
