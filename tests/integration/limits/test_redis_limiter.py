"""What only the Redis limiter has: keys with expiries, a server-side calendar, a script cache
that Redis can forget, and counters that Redis can lose and the ledger restores."""

from __future__ import annotations

import calendar
import random
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_asyncio

from ias.limits import Admission, Kind, Limit, RedisLimiter, redis_limiter_client
from ias.limits.periods import MONTH_KEY_SECONDS, month_of, month_start
from ias.limits.scripts import CIVIL_PROBE
from tests.conftest import REDIS_URL
from tests.integration.limits.conftest import TEST_TIMEOUT_SECONDS, keys_under
from tests.integration.limits.own_redis import OwnRedis

pytestmark = pytest.mark.redis

ORG = "org:o"
EVERY_KIND = (
    Limit("key:k", Kind.REQUESTS, 10),
    Limit("key:k", Kind.TOKENS, 1_000),
    Limit(ORG, Kind.CONCURRENCY, 3),
    Limit(ORG, Kind.MONTHLY_TOKENS, 10_000),
    Limit(ORG, Kind.MONTHLY_MICROS, 10_000),
)


def _admission(*limits: Limit, tokens: int = 0, cost: int = 0) -> Admission:
    return Admission(uuid.uuid4().hex, limits, tokens, cost)


@pytest.fixture
async def limiter(prefix: str) -> AsyncIterator[RedisLimiter]:
    client = redis_limiter_client(REDIS_URL, timeout_seconds=TEST_TIMEOUT_SECONDS)
    redis_limiter = RedisLimiter(client, prefix=prefix, lease_ttl_seconds=30)
    yield redis_limiter
    await redis_limiter.close()


async def test_every_key_expires_with_its_period(
    limiter: RedisLimiter, redis_client: redis_asyncio.Redis, prefix: str
) -> None:
    decision = await limiter.admit(_admission(*EVERY_KIND, tokens=5, cost=5))
    assert decision.ticket is not None
    ttls = {
        key.decode().removeprefix(prefix).split(":")[0]: await redis_client.ttl(key)
        for key in await keys_under(redis_client, prefix)
    }
    assert set(ttls) == {"rq", "tk", "cc", "mt", "mm"}
    assert 0 < ttls["rq"] <= 65
    assert 0 < ttls["tk"] <= 65
    assert 29 <= ttls["cc"] <= 31
    month_left = month_start(decision.ticket.month) + MONTH_KEY_SECONDS - time.time()
    assert abs(ttls["mt"] - month_left) < 5
    assert abs(ttls["mm"] - month_left) < 5


async def test_a_lost_month_is_rebuilt_from_the_ledger(
    prefix: str, redis_client: redis_asyncio.Redis
) -> None:
    ledger = {"tokens": 0}

    async def baseline(scope: str, month: str) -> tuple[int, int]:
        return ledger["tokens"], 0

    client = redis_limiter_client(REDIS_URL, timeout_seconds=TEST_TIMEOUT_SECONDS)
    limiter = RedisLimiter(client, prefix=prefix, baseline=baseline)
    quota = Limit(ORG, Kind.MONTHLY_TOKENS, 1_000)
    try:
        first = await limiter.admit(_admission(quota, tokens=100))
        assert first.allowances == ((quota, 900),)
        # Redis loses its data; meanwhile the ledger has recorded 700 tokens for the month.
        await redis_client.delete(*await keys_under(redis_client, prefix))
        ledger["tokens"] = 700
        assert first.ticket is not None
        await limiter.settle(first.ticket, tokens=50, cost_micros=0)  # must not recreate it
        assert await keys_under(redis_client, prefix) == []
        second = await limiter.admit(_admission(quota, tokens=200))
        assert second.allowances == ((quota, 100),)
        assert not (await limiter.admit(_admission(quota, tokens=101))).admitted
    finally:
        await limiter.close()


async def test_a_forgotten_script_is_sent_again(own_redis: OwnRedis) -> None:
    limiter = RedisLimiter(redis_limiter_client(own_redis.url, timeout_seconds=2))
    probe = redis_asyncio.Redis.from_url(own_redis.url)
    rpm = Limit("key:k", Kind.REQUESTS, 2)
    try:
        assert (await limiter.admit(_admission(rpm))).admitted
        await probe.script_flush()  # what a Redis restart or failover does to the cache
        assert (await limiter.admit(_admission(rpm))).admitted
        assert not (await limiter.admit(_admission(rpm))).admitted
    finally:
        await probe.aclose()
        await limiter.close()


def _moments() -> list[int]:
    """Month edges from 1970 to 2200 (leap years, century years), plus random instants."""
    moments = []
    for year in (1970, 1999, 2000, 2024, 2025, 2100, 2199):
        for month in range(1, 13):
            start = calendar.timegm((year, month, 1, 0, 0, 0))
            moments += [start - 1, start, start + 86_399]
    rng = random.Random(20250101)
    return moments + [rng.randrange(0, 7_258_118_400) for _ in range(500)]


async def test_the_server_side_calendar_agrees_with_pythons(
    redis_client: redis_asyncio.Redis,
) -> None:
    moments = _moments()
    async with redis_client.pipeline(transaction=False) as pipe:
        for moment in moments:
            pipe.eval(CIVIL_PROBE, 0, moment)
        answers = await pipe.execute()
    for moment, (year, month, day) in zip(moments, answers, strict=True):
        expected = time.gmtime(moment)
        assert (year, month, day) == (expected.tm_year, expected.tm_mon, expected.tm_mday), moment
        assert f"{year:04d}{month:02d}" == month_of(moment)
