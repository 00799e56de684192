"""R2 on a private redis-server that the tests stop and pause: rates fail open within
(1 + 1/N) times the limit, money fails closed, requests never wait on a hung Redis, recovery needs
no restart, and no concurrency slot is left behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import redis.asyncio as redis_asyncio

from ias.errors import Unavailable
from ias.limits import (
    Admission,
    Decision,
    Kind,
    Limit,
    MemoryLimiter,
    RedisLimiter,
    ResilientLimiter,
    redis_limiter_client,
)
from tests.integration.limits.conftest import assert_every_key_expires
from tests.integration.limits.own_redis import OwnRedis

pytestmark = pytest.mark.redis

REPLICAS = 2
WINDOW = 2  # short windows so a run sees several of them
RPM = Limit("key:k", Kind.REQUESTS, 20)
BOUND = 20 + 20 // REPLICAS  # (1 + 1/N) times the limit


@dataclass
class Stack:
    limiter: ResilientLimiter
    primary: RedisLimiter
    fallback: MemoryLimiter


@pytest.fixture
async def stack(own_redis: OwnRedis) -> AsyncIterator[Stack]:
    primary = RedisLimiter(redis_limiter_client(own_redis.url), window_seconds=WINDOW)
    fallback = MemoryLimiter(window_seconds=WINDOW)
    limiter = ResilientLimiter(
        primary, replicas=lambda: REPLICAS, probe_interval_seconds=0.3, fallback=fallback
    )
    yield Stack(limiter, primary, fallback)
    await limiter.close()
    if own_redis.paused:
        own_redis.resume()
    if not own_redis.running:
        return
    inspector = redis_asyncio.Redis.from_url(own_redis.url)
    try:
        await assert_every_key_expires(inspector, "")
    finally:
        await inspector.aclose()


def _admission(*limits: Limit, tokens: int = 0) -> Admission:
    return Admission(uuid.uuid4().hex, limits, tokens, 0)


@dataclass
class Run:
    """Admissions every few milliseconds, recorded per window, with their latencies."""

    limiter: ResilientLimiter
    per_window: Counter[int] = field(default_factory=Counter)
    decisions: list[tuple[float, Decision]] = field(default_factory=list)

    async def drive(self, seconds: float) -> list[float]:
        latencies = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            decision = await self.limiter.admit(_admission(RPM))
            latencies.append(time.monotonic() - started)
            self.decisions.append((time.time(), decision))
            if decision.ticket is not None:
                self.per_window[decision.ticket.window] += 1
            await asyncio.sleep(0.005)
        return latencies

    async def drive_into_next_window(self) -> None:
        """Keep going until a new window has begun, so a restart cannot forgive this one."""
        await self.drive((WINDOW - time.time() % WINDOW) + 0.2)

    def degraded_since(self, since: float) -> list[bool]:
        return [d.ticket.degraded for at, d in self.decisions if at >= since and d.ticket]


async def test_redis_stopped_mid_run(stack: Stack, own_redis: OwnRedis) -> None:
    run = Run(stack.limiter)
    await run.drive(0.5)
    own_redis.stop()
    stopped = time.time()
    await run.drive_into_next_window()
    own_redis.start()
    restarted = time.time()
    await run.drive(1.0)
    assert max(run.per_window.values()) <= BOUND
    assert any(run.degraded_since(stopped))
    assert all(
        d.requests and d.requests.limit == 10
        for _, d in run.decisions
        if d.ticket and d.ticket.degraded
    )
    assert not run.degraded_since(restarted)[-1]  # back on Redis, without a restart
    assert not stack.limiter.degraded


async def test_redis_paused_mid_run(stack: Stack, own_redis: OwnRedis) -> None:
    run = Run(stack.limiter)
    await run.drive(0.5)
    own_redis.pause()
    paused = time.time()
    latencies = await run.drive(1.5)
    own_redis.resume()
    resumed = time.time()
    await run.drive(1.0)
    assert max(latencies) < 0.1, "a request waited on a hung Redis"
    assert max(run.per_window.values()) <= BOUND
    assert any(run.degraded_since(paused))
    assert not run.degraded_since(resumed)[-1]


async def test_no_concurrency_slot_is_leaked(stack: Stack, own_redis: OwnRedis) -> None:
    slots = Limit("org:o", Kind.CONCURRENCY, 4)
    limiter = stack.limiter
    online = [await limiter.admit(_admission(slots)) for _ in range(2)]
    own_redis.pause()
    first = online[0].ticket
    assert first is not None
    await limiter.settle(first, tokens=0, cost_micros=0)  # times out: release queued
    offline = [await limiter.admit(_admission(slots)) for _ in range(3)]
    assert [d.admitted for d in offline] == [True, True, False]  # a share of 4 ÷ 2
    for decision in offline[:2]:
        assert decision.ticket is not None
        assert decision.ticket.degraded
        await limiter.settle(decision.ticket, tokens=0, cost_micros=0)
    own_redis.resume()
    await asyncio.sleep(0.35)
    back = await limiter.admit(_admission(slots))
    assert back.ticket is not None
    assert not back.ticket.degraded
    await limiter.replay()
    for ticket in (online[1].ticket, back.ticket):
        assert ticket is not None
        await limiter.settle(ticket, tokens=0, cost_micros=0)
    assert (await stack.primary.consumption("org:o"))[Kind.CONCURRENCY] == 0
    assert (await stack.fallback.consumption("org:o"))[Kind.CONCURRENCY] == 0


async def test_a_quota_with_no_known_allowance_fails_closed(
    stack: Stack, own_redis: OwnRedis
) -> None:
    own_redis.stop()
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 1_000)
    with pytest.raises(Unavailable, match="no monthly_tokens allowance is known"):
        await stack.limiter.admit(_admission(quota, tokens=1))
    assert (await stack.limiter.admit(_admission(RPM))).admitted


async def test_a_known_allowance_is_spent_offline_then_refused(
    stack: Stack, own_redis: OwnRedis
) -> None:
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 100)
    limiter = stack.limiter
    assert (await limiter.admit(_admission(quota, tokens=10))).admitted  # 90 left: 45 each
    own_redis.pause()
    await limiter.admit(_admission(RPM))  # discovers the hang on a request without a quota
    offline = [await limiter.admit(_admission(quota, tokens=10)) for _ in range(4)]
    assert all(d.ticket is not None and d.ticket.degraded for d in offline)
    with pytest.raises(Unavailable, match="may spend on its own"):
        await limiter.admit(_admission(quota, tokens=10))
    for decision in offline:
        assert decision.ticket is not None
        await limiter.settle(decision.ticket, tokens=10, cost_micros=0)
    own_redis.resume()
    await asyncio.sleep(0.35)
    assert not (await limiter.admit(_admission(RPM))).ticket.degraded  # type: ignore[union-attr]
    await limiter.replay()
    # The offline spend reached Redis: billed stays within the quota across the outage.
    assert (await stack.primary.consumption("org:o"))[Kind.MONTHLY_TOKENS] == 50


async def test_a_ledger_slower_than_the_budget_delays_only_the_first_request(
    own_redis: OwnRedis,
) -> None:
    calls: list[str] = []

    async def slow_baseline(scope: str, month: str) -> tuple[int, int]:
        calls.append(scope)
        await asyncio.sleep(0.2)
        return 10, 0

    primary = RedisLimiter(redis_limiter_client(own_redis.url), baseline=slow_baseline)
    limiter = ResilientLimiter(primary, replicas=lambda: REPLICAS, probe_interval_seconds=0.3)
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 100)
    try:
        # The ledger read outlasts the store's 50 ms budget: the request waits for it rather
        # than taking a healthy store for dead, and is counted in Redis, not locally.
        started = time.monotonic()
        decision = await limiter.admit(_admission(quota, tokens=5))
        assert 0.15 < time.monotonic() - started < 1.0
        assert decision.ticket is not None
        assert not decision.ticket.degraded
        assert decision.allowances == ((quota, 85),)
        second = await limiter.admit(_admission(quota, tokens=5))
        assert second.allowances == ((quota, 80),)
        assert calls == ["org:o"]
        assert not limiter.degraded
    finally:
        await limiter.close()
