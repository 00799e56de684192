"""Hypothesis drives random admissions and settlements against real Redis.

`RedisLimitInvariants` runs on one-second windows, so windows roll over during a run, and
checks what must hold whatever the order: no window ever admits more than its limit, no more
leases are live than the concurrency limit, no month is charged beyond its quota, and no key
is left without an expiry. `RedisMatchesMemory` replays the same steps on both limiters and
requires identical answers (on windows long enough that none ends mid-run).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import redis.asyncio as redis_asyncio
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ias.limits import (
    Admission,
    Decision,
    Kind,
    Limit,
    MemoryLimiter,
    RedisLimiter,
    Ticket,
    redis_limiter_client,
)
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

T = TypeVar("T")
RUN_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WAIT_EVERY = 12  # steps between waits for a new one-second window

KEY_RPM, KEY_TPM, ORG_RPM, ORG_SLOTS, ORG_TOKENS, ORG_MICROS = 3, 12, 5, 3, 30, 60
KEY_LIMITS = {
    scope: (Limit(scope, Kind.REQUESTS, KEY_RPM), Limit(scope, Kind.TOKENS, KEY_TPM))
    for scope in ("key:a", "key:b")
}
ORG_LIMITS = (
    Limit("org:o", Kind.REQUESTS, ORG_RPM),
    Limit("org:o", Kind.CONCURRENCY, ORG_SLOTS),
    Limit("org:o", Kind.MONTHLY_TOKENS, ORG_TOKENS),
    Limit("org:o", Kind.MONTHLY_MICROS, ORG_MICROS),
)


class _OnRedis(RuleBasedStateMachine):
    """A machine with its own event loop and its own key prefix on the shared Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.prefix = f"test:limits:{uuid.uuid4().hex}:"
        self.inspector = redis_asyncio.Redis.from_url(REDIS_URL)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def redis_limiter(self, **options: Any) -> RedisLimiter:
        client = redis_limiter_client(REDIS_URL, timeout_seconds=2)
        return RedisLimiter(client, prefix=self.prefix, **options)

    async def _check_and_drop_keys(self) -> None:
        keys = [key async for key in self.inspector.scan_iter(match=f"{self.prefix}*")]
        for key in keys:
            assert await self.inspector.ttl(key) != -1, f"{key!r} has no expiry"
        if keys:
            await self.inspector.delete(*keys)
        await self.inspector.aclose()

    def close_all(self, *limiters: Any) -> None:
        for limiter in limiters:
            self.run(limiter.close())
        self.run(self._check_and_drop_keys())
        self.loop.close()


class RedisLimitInvariants(_OnRedis):
    def __init__(self) -> None:
        super().__init__()
        self.limiter = self.redis_limiter(window_seconds=1)
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.tokens: dict[tuple[str, int], int] = defaultdict(int)
        self.month_tokens = 0
        self.month_micros = 0
        self.held: list[Ticket] = []
        self.steps_since_wait = 0

    # Sleeping is slow, so a run waits for the next window only now and then; the condition
    # depends on the steps alone, never on the clock, as Hypothesis requires.
    @precondition(lambda self: self.steps_since_wait >= WAIT_EVERY)
    @rule()
    def next_window(self) -> None:
        self.steps_since_wait = 0
        time.sleep(1 - time.time() % 1 + 0.01)

    @rule(key=st.sampled_from(sorted(KEY_LIMITS)), tokens=st.integers(0, 7), cost=st.integers(0, 9))
    def admit(self, key: str, tokens: int, cost: int) -> None:
        self.steps_since_wait += 1
        admission = Admission(uuid.uuid4().hex, (*KEY_LIMITS[key], *ORG_LIMITS), tokens, cost)
        decision = self.run(self.limiter.admit(admission))
        if decision.ticket is None:
            assert decision.refused_by is not None
            event(f"refused by {decision.refused_by.kind}")
            return
        window = decision.ticket.window
        event(f"windows seen: {len({w for _, w in self.requests} | {window})}")
        for scope in (key, "org:o"):
            self.requests[(scope, window)] += 1
        self.tokens[(key, window)] += tokens
        self.month_tokens += tokens
        self.month_micros += cost
        self.held.append(decision.ticket)

    # Always enabled: which admissions succeed depends on the clock, and Hypothesis needs the
    # choice of rules not to.
    @rule(pick=st.integers(0, 1000), share=st.floats(0, 1))
    def settle(self, pick: int, share: float) -> None:
        if not self.held:
            return
        ticket = self.held.pop(pick % len(self.held))
        tokens, cost = int(ticket.tokens * share), int(ticket.cost_micros * share)
        self.run(self.limiter.settle(ticket, tokens=tokens, cost_micros=cost))
        key = next(limit.scope for limit in ticket.limits if limit.scope.startswith("key:"))
        self.tokens[(key, ticket.window)] -= ticket.tokens - tokens
        self.month_tokens -= ticket.tokens - tokens
        self.month_micros -= ticket.cost_micros - cost

    @invariant()
    def no_window_admits_more_than_its_limit(self) -> None:
        for (scope, _), count in self.requests.items():
            assert count <= (ORG_RPM if scope == "org:o" else KEY_RPM)
        assert all(count <= KEY_TPM for count in self.tokens.values())

    @invariant()
    def no_more_leases_than_the_concurrency_limit(self) -> None:
        assert len(self.held) <= ORG_SLOTS
        live = self.run(self.limiter.consumption("org:o"))[Kind.CONCURRENCY]
        assert live == len(self.held)

    @invariant()
    def no_month_is_charged_beyond_its_quota(self) -> None:
        assert self.month_tokens <= ORG_TOKENS
        assert self.month_micros <= ORG_MICROS
        usage = self.run(self.limiter.consumption("org:o"))
        assert (usage[Kind.MONTHLY_TOKENS], usage[Kind.MONTHLY_MICROS]) == (
            self.month_tokens,
            self.month_micros,
        )

    def teardown(self) -> None:
        self.close_all(self.limiter)


LONG_WINDOW = 10**7  # about four months: no window ends while Hypothesis runs
POOL = (*KEY_LIMITS["key:a"], *KEY_LIMITS["key:b"], *ORG_LIMITS)


def _comparable(decision: Decision) -> tuple[Any, ...]:
    ticket = decision.ticket
    return (
        decision.admitted,
        decision.refused_by,
        decision.used,
        decision.requested,
        decision.requests and (decision.requests.limit, decision.requests.remaining),
        decision.tokens and (decision.tokens.limit, decision.tokens.remaining),
        decision.allowances,
        ticket and (ticket.limits, ticket.tokens, ticket.cost_micros, ticket.window, ticket.month),
    )


class RedisMatchesMemory(_OnRedis):
    def __init__(self) -> None:
        super().__init__()
        self.redis = self.redis_limiter(window_seconds=LONG_WINDOW)
        self.memory = MemoryLimiter(window_seconds=LONG_WINDOW)
        self.held: list[Ticket] = []

    @rule(
        chosen=st.lists(st.sampled_from(POOL), unique_by=lambda lim: (lim.scope, lim.kind)),
        tokens=st.integers(0, 14),
        cost=st.integers(0, 40),
    )
    def admit(self, chosen: list[Limit], tokens: int, cost: int) -> None:
        admission = Admission(uuid.uuid4().hex, tuple(chosen), tokens, cost)
        on_redis = self.run(self.redis.admit(admission))
        in_memory = self.run(self.memory.admit(admission))
        assert _comparable(on_redis) == _comparable(in_memory)
        event(f"refused by {on_redis.refused_by.kind}" if on_redis.refused_by else "admitted")
        if on_redis.ticket is not None:
            self.held.append(on_redis.ticket)

    @rule(pick=st.integers(0, 1000), tokens=st.integers(0, 20), cost=st.integers(0, 50))
    def settle(self, pick: int, tokens: int, cost: int) -> None:
        if not self.held:
            return
        ticket = self.held.pop(pick % len(self.held))
        self.run(self.redis.settle(ticket, tokens=tokens, cost_micros=cost))
        self.run(self.memory.settle(ticket, tokens=tokens, cost_micros=cost))

    @invariant()
    def both_count_the_same(self) -> None:
        for scope in ("key:a", "key:b", "org:o"):
            on_redis = self.run(self.redis.consumption(scope))
            assert on_redis == self.run(self.memory.consumption(scope))

    def teardown(self) -> None:
        self.close_all(self.redis, self.memory)


TestRedisLimitInvariants = RedisLimitInvariants.TestCase
TestRedisLimitInvariants.settings = RUN_SETTINGS
TestRedisMatchesMemory = RedisMatchesMemory.TestCase
TestRedisMatchesMemory.settings = RUN_SETTINGS
