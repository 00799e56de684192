"""The failure policy against a primary the test can break: down (refuses at once) or hung
(never answers). Rates fall back to limit ÷ replicas; money fails closed; the primary is
probed again after a pause and gets back what it missed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from ias.errors import Unavailable
from ias.limits import (
    Admission,
    Decision,
    Kind,
    Limit,
    MemoryLimiter,
    ResilientLimiter,
    Ticket,
)

PROBE = 0.2


class FlakyPrimary:
    """A memory limiter standing in for Redis, with a switch for how it fails."""

    def __init__(self) -> None:
        self.store = MemoryLimiter()
        self.mode = "up"
        self.calls = 0

    async def _gate(self) -> None:
        self.calls += 1
        if self.mode == "down":
            raise ConnectionError("connection refused")
        if self.mode == "hung":
            await asyncio.sleep(3600)

    async def admit(self, admission: Admission) -> Decision:
        await self._gate()
        return await self.store.admit(admission)

    async def charge(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        await self._gate()
        await self.store.charge(ticket, tokens=tokens, cost_micros=cost_micros)

    async def settle(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        await self.store.settle(ticket, tokens=tokens, cost_micros=cost_micros)

    async def consumption(self, scope: str) -> dict[Kind, int]:
        await self._gate()
        return await self.store.consumption(scope)

    async def close(self) -> None:
        await self.store.close()


@pytest.fixture
def primary() -> FlakyPrimary:
    return FlakyPrimary()


@pytest.fixture
async def limiter(primary: FlakyPrimary) -> AsyncIterator[ResilientLimiter]:
    resilient = ResilientLimiter(primary, replicas=lambda: 2, probe_interval_seconds=PROBE)
    yield resilient
    await resilient.close()


_leases = iter(range(10**9))


def _admission(*limits: Limit, tokens: int = 0, cost: int = 0) -> Admission:
    return Admission(f"lease-{next(_leases)}", limits, tokens, cost)


async def _admitted(limiter: ResilientLimiter, *limits: Limit, count: int, **amounts: int) -> int:
    decisions = [await limiter.admit(_admission(*limits, **amounts)) for _ in range(count)]
    return sum(decision.admitted for decision in decisions)


async def test_rates_fall_back_to_their_share_never_to_unlimited(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    rpm = Limit("key:k", Kind.REQUESTS, 21)
    assert await _admitted(limiter, rpm, count=30) == 21
    primary.mode = "down"
    assert await _admitted(limiter, rpm, count=30) == 10  # 21 // 2 replicas
    decision = await limiter.admit(_admission(rpm))
    assert decision.requests is not None
    assert decision.requests.limit == 10
    assert limiter.degraded


async def test_a_share_is_never_below_one(primary: FlakyPrimary) -> None:
    limiter = ResilientLimiter(primary, replicas=lambda: 50, probe_interval_seconds=PROBE)
    primary.mode = "down"
    assert await _admitted(limiter, Limit("org:o", Kind.CONCURRENCY, 3), count=5) == 1


async def test_a_hung_primary_costs_one_timeout_then_is_skipped(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    primary.mode = "hung"
    rpm = Limit("key:k", Kind.REQUESTS, 100)
    started = time.monotonic()
    first = await limiter.admit(_admission(rpm))
    assert time.monotonic() - started < 0.2
    assert first.ticket is not None
    assert first.ticket.degraded
    started = time.monotonic()
    assert await _admitted(limiter, rpm, count=20) == 20
    assert time.monotonic() - started < 0.05
    assert primary.calls == 1  # the circuit is open: no 50 ms per request


async def test_the_primary_is_probed_again_and_recovery_needs_no_restart(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    rpm = Limit("key:k", Kind.REQUESTS, 100)
    primary.mode = "down"
    await limiter.admit(_admission(rpm))
    primary.mode = "up"
    still_skipped = await limiter.admit(_admission(rpm))
    assert still_skipped.ticket is not None
    assert still_skipped.ticket.degraded
    await asyncio.sleep(PROBE)
    back = await limiter.admit(_admission(rpm))
    assert back.ticket is not None
    assert not back.ticket.degraded
    assert not limiter.degraded


async def test_money_with_no_known_allowance_fails_closed(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    primary.mode = "down"
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 1_000)
    with pytest.raises(Unavailable, match="no monthly_tokens allowance is known for org:o"):
        await limiter.admit(_admission(quota, tokens=1))
    unmetered = await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))
    assert unmetered.admitted  # rates alone still fail open, within their share


async def test_money_is_spent_offline_only_within_this_routers_share_of_the_allowance(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    budget = Limit("org:o", Kind.MONTHLY_MICROS, 1_000)
    assert (await limiter.admit(_admission(budget, cost=200))).admitted  # 800 left, 400 each
    primary.mode = "down"
    spent = [await limiter.admit(_admission(budget, cost=150)) for _ in range(2)]
    assert all(decision.admitted for decision in spent)
    with pytest.raises(Unavailable, match="may spend on its own"):
        await limiter.admit(_admission(budget, cost=150))
    assert spent[0].ticket is not None
    await limiter.settle(spent[0].ticket, tokens=0, cost_micros=50)  # the refund frees 100
    assert (await limiter.admit(_admission(budget, cost=100))).admitted


async def test_an_exhausted_quota_stays_a_quota_refusal_offline(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 10)
    assert (await limiter.admit(_admission(quota, tokens=10))).admitted
    primary.mode = "down"
    refused = await limiter.admit(_admission(quota, tokens=1))
    assert (refused.admitted, refused.refused_by) == (False, quota)
    assert refused.retry_after_seconds > 0


async def test_offline_spend_reaches_the_primary_after_recovery(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 1_000)
    assert (await limiter.admit(_admission(quota, tokens=100))).admitted
    primary.mode = "down"
    offline = await limiter.admit(_admission(quota, tokens=100))
    assert offline.ticket is not None
    await limiter.settle(offline.ticket, tokens=60, cost_micros=0)
    primary.mode = "up"
    await asyncio.sleep(PROBE)
    assert (await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))).admitted
    await limiter.replay()
    assert (await primary.store.consumption("org:o"))[Kind.MONTHLY_TOKENS] == 160


async def test_settlements_missed_while_down_are_replayed_in_full(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    limits = (Limit("org:o", Kind.CONCURRENCY, 4), Limit("org:o", Kind.MONTHLY_TOKENS, 1_000))
    online = await limiter.admit(_admission(*limits, tokens=100))
    assert online.ticket is not None
    primary.mode = "down"
    await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))  # trips the circuit
    await limiter.settle(online.ticket, tokens=30, cost_micros=0)  # skipped: queued in full
    primary.mode = "up"
    await asyncio.sleep(PROBE)
    await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))
    await limiter.replay()
    usage = await primary.store.consumption("org:o")
    assert (usage[Kind.CONCURRENCY], usage[Kind.MONTHLY_TOKENS]) == (0, 30)


async def test_a_timed_out_call_is_replayed_only_as_a_lease_release(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    limits = (Limit("org:o", Kind.CONCURRENCY, 4), Limit("org:o", Kind.MONTHLY_TOKENS, 1_000))
    online = await limiter.admit(_admission(*limits, tokens=100))
    assert online.ticket is not None
    primary.mode = "hung"
    await limiter.settle(online.ticket, tokens=30, cost_micros=0)  # may or may not have run
    primary.mode = "up"
    await asyncio.sleep(PROBE)
    await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))
    await limiter.replay()
    usage = await primary.store.consumption("org:o")
    # The lease is released; the refund is not repeated (it might have landed already).
    assert (usage[Kind.CONCURRENCY], usage[Kind.MONTHLY_TOKENS]) == (0, 100)


async def test_leases_taken_offline_are_released_offline(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    slots = Limit("org:o", Kind.CONCURRENCY, 2)
    primary.mode = "down"
    held = await limiter.admit(_admission(slots))
    assert not (await limiter.admit(_admission(slots))).admitted  # share: 1
    assert held.ticket is not None
    await limiter.settle(held.ticket, tokens=0, cost_micros=0)
    assert (await limiter.admit(_admission(slots))).admitted


async def test_consumption_is_unavailable_rather_than_made_up(
    limiter: ResilientLimiter, primary: FlakyPrimary
) -> None:
    primary.mode = "down"
    with pytest.raises(Unavailable):
        await limiter.consumption("org:o")


async def test_close_closes_both_limiters(limiter: ResilientLimiter, primary: FlakyPrimary) -> None:
    await limiter.admit(_admission(Limit("key:k", Kind.REQUESTS, 5)))
    await limiter.close()
    assert (await primary.store.consumption("key:k"))[Kind.REQUESTS] == 0
