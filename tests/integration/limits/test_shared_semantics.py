"""One suite, two limiters: whatever the memory limiter does, the Redis limiter does too.

Time-based cases run on the real clock with one-second windows and leases, because Redis
reads its own clock; the memory limiter is checked against a fake clock in the unit tests.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

import pytest

from ias.errors import QuotaExceeded, RateLimited
from ias.limits import Admission, Decision, Kind, Limit, Limiter, rate_limit_headers, refusal
from ias.limits.periods import month_end, month_of
from tests.integration.limits.conftest import LimiterFactory

pytestmark = pytest.mark.redis

KEY, ORG = "key:k1", "org:o1"


def admission(*limits: Limit, tokens: int = 0, cost: int = 0) -> Admission:
    return Admission(uuid.uuid4().hex, limits, tokens, cost)


async def admit_all(limiter: Limiter, admissions: list[Admission]) -> list[Decision]:
    return [await limiter.admit(item) for item in admissions]


async def test_requests_are_admitted_up_to_the_limit_then_refused(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter()
    rpm = Limit(KEY, Kind.REQUESTS, 3)
    decisions = await admit_all(limiter, [admission(rpm) for _ in range(5)])
    assert [decision.admitted for decision in decisions] == [True, True, True, False, False]
    assert [d.requests.remaining for d in decisions if d.requests] == [2, 1, 0, 0, 0]
    refused = decisions[3]
    assert (refused.refused_by, refused.ticket, refused.used, refused.requested) == (
        rpm,
        None,
        3,
        1,
    )
    assert 0 < refused.retry_after_seconds <= 60
    assert (await limiter.consumption(KEY))[Kind.REQUESTS] == 3


async def test_tokens_are_reserved_up_to_the_limit(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    tpm = Limit(KEY, Kind.TOKENS, 100)
    decisions = await admit_all(limiter, [admission(tpm, tokens=n) for n in (40, 40, 40, 20, 0, 1)])
    assert [decision.admitted for decision in decisions] == [True, True, False, True, True, False]
    assert [d.tokens.remaining for d in decisions if d.tokens] == [60, 20, 20, 0, 0, 0]
    assert (await limiter.consumption(KEY))[Kind.TOKENS] == 100


async def test_a_reservation_larger_than_the_tpm_limit_is_refused_as_too_large(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter()
    decision = await limiter.admit(admission(Limit(KEY, Kind.TOKENS, 100), tokens=150))
    assert not decision.admitted
    assert "Request too large" in refusal(decision).message
    assert (await limiter.consumption(KEY))[Kind.TOKENS] == 0


async def test_every_limit_must_allow_and_a_refusal_counts_nothing(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter()
    limits = (
        Limit(KEY, Kind.REQUESTS, 5),
        Limit(KEY, Kind.TOKENS, 1_000),
        Limit(ORG, Kind.CONCURRENCY, 5),
        Limit(ORG, Kind.MONTHLY_TOKENS, 1_000),
        Limit(ORG, Kind.MONTHLY_MICROS, 50),
    )
    decision = await limiter.admit(admission(*limits, tokens=10, cost=60))
    assert decision.refused_by == limits[4]
    assert set((await limiter.consumption(KEY)).values()) == {0}
    assert set((await limiter.consumption(ORG)).values()) == {0}


async def test_the_tightest_of_several_scopes_decides(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    limits = (Limit(KEY, Kind.REQUESTS, 10), Limit(ORG, Kind.REQUESTS, 2))
    decisions = await admit_all(limiter, [admission(*limits) for _ in range(3)])
    assert [decision.admitted for decision in decisions] == [True, True, False]
    assert decisions[2].refused_by == limits[1]
    assert decisions[1].requests is not None
    assert (decisions[1].requests.limit, decisions[1].requests.remaining) == (2, 0)
    assert (await limiter.consumption(KEY))[Kind.REQUESTS] == 2


async def test_windows_roll_over(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(window_seconds=1)
    rpm = Limit(KEY, Kind.REQUESTS, 2)
    first, _, refused = await admit_all(limiter, [admission(rpm) for _ in range(3)])
    assert not refused.admitted
    assert refused.retry_after_seconds <= 1
    await asyncio.sleep(refused.retry_after_seconds + 0.05)
    later = await limiter.admit(admission(rpm))
    assert later.ticket is not None
    assert first.ticket is not None
    assert later.ticket.window > first.ticket.window
    assert (await limiter.consumption(KEY))[Kind.REQUESTS] == 1


async def test_settle_refunds_and_charges_the_difference(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    limits = (
        Limit(KEY, Kind.TOKENS, 100),
        Limit(ORG, Kind.MONTHLY_TOKENS, 1_000),
        Limit(ORG, Kind.MONTHLY_MICROS, 1_000),
    )
    first = await limiter.admit(admission(*limits, tokens=60, cost=100))
    assert first.ticket is not None
    await limiter.settle(first.ticket, tokens=20, cost_micros=30)
    assert (await limiter.consumption(KEY))[Kind.TOKENS] == 20
    usage = await limiter.consumption(ORG)
    assert (usage[Kind.MONTHLY_TOKENS], usage[Kind.MONTHLY_MICROS]) == (20, 30)
    second = await limiter.admit(admission(*limits, tokens=60, cost=100))
    assert second.ticket is not None
    await limiter.settle(second.ticket, tokens=90, cost_micros=250)  # the engine ran long
    assert (await limiter.consumption(KEY))[Kind.TOKENS] == 110
    usage = await limiter.consumption(ORG)
    assert (usage[Kind.MONTHLY_TOKENS], usage[Kind.MONTHLY_MICROS]) == (110, 280)


async def test_a_refund_never_drives_a_counter_below_zero(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    limits = (Limit(KEY, Kind.TOKENS, 1_000), Limit(ORG, Kind.MONTHLY_MICROS, 1_000))
    decision = await limiter.admit(admission(*limits, tokens=60, cost=10))
    assert decision.ticket is not None
    inflated = replace(decision.ticket, tokens=500, cost_micros=900)
    await limiter.settle(inflated, tokens=0, cost_micros=0)
    assert (await limiter.consumption(KEY))[Kind.TOKENS] == 0
    assert (await limiter.consumption(ORG))[Kind.MONTHLY_MICROS] == 0


async def test_concurrency_leases_are_released_by_settle(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    slots = Limit(ORG, Kind.CONCURRENCY, 2)
    first, second, third = await admit_all(limiter, [admission(slots) for _ in range(3)])
    assert (first.admitted, second.admitted, third.admitted) == (True, True, False)
    assert (third.refused_by, third.retry_after_seconds) == (slots, 1.0)
    assert (await limiter.consumption(ORG))[Kind.CONCURRENCY] == 2
    assert first.ticket is not None
    await limiter.settle(first.ticket, tokens=0, cost_micros=0)
    await limiter.settle(first.ticket, tokens=0, cost_micros=0)  # twice: still one release
    assert (await limiter.admit(admission(slots))).admitted
    assert not (await limiter.admit(admission(slots))).admitted


async def test_leases_of_a_crashed_router_expire(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(lease_ttl_seconds=1)
    slots = Limit(ORG, Kind.CONCURRENCY, 1)
    assert (await limiter.admit(admission(slots))).admitted  # never settled
    assert not (await limiter.admit(admission(slots))).admitted
    await asyncio.sleep(1.1)
    assert (await limiter.consumption(ORG))[Kind.CONCURRENCY] == 0
    assert (await limiter.admit(admission(slots))).admitted


async def test_a_monthly_token_quota(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    quota = Limit(ORG, Kind.MONTHLY_TOKENS, 10)
    decisions = await admit_all(limiter, [admission(quota, tokens=n) for n in (4, 4, 4, 2)])
    assert [decision.admitted for decision in decisions] == [True, True, False, True]
    refused = decisions[2]
    month = month_of(time.time())
    assert abs(refused.retry_after_seconds - (month_end(month) - time.time())) < 5
    error = refusal(refused)
    assert isinstance(error, QuotaExceeded)
    assert error.code == "insufficient_quota"
    assert decisions[3].allowances == ((quota, 0),)


async def test_a_monthly_budget(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    budget = Limit(ORG, Kind.MONTHLY_MICROS, 1_000_000)
    decisions = await admit_all(limiter, [admission(budget, cost=400_000) for _ in range(3)])
    assert [decision.admitted for decision in decisions] == [True, True, False]
    message = refusal(decisions[2]).message
    assert "spent $0.80 of its $1.00 monthly budget" in message
    assert decisions[1].ticket is not None
    assert decisions[1].ticket.month == month_of(time.time())


async def test_decisions_render_as_openai_headers(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    limits = (Limit(KEY, Kind.REQUESTS, 1), Limit(KEY, Kind.TOKENS, 1_000))
    admitted = await limiter.admit(admission(*limits, tokens=300))
    headers = rate_limit_headers(admitted)
    assert headers["x-ratelimit-limit-requests"] == "1"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-remaining-tokens"] == "700"
    assert headers["x-ratelimit-reset-tokens"].endswith("s")
    assert "retry-after" not in headers
    error = refusal(await limiter.admit(admission(*limits, tokens=300)))
    assert isinstance(error, RateLimited)
    assert error.envelope()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(error.headers["retry-after"]) <= 60


async def test_consumption_reports_each_scope_separately(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    limits = (
        Limit(KEY, Kind.REQUESTS, 10),
        Limit(KEY, Kind.TOKENS, 1_000),
        Limit(ORG, Kind.CONCURRENCY, 3),
        Limit(ORG, Kind.MONTHLY_TOKENS, 1_000),
        Limit(ORG, Kind.MONTHLY_MICROS, 1_000),
    )
    await admit_all(limiter, [admission(*limits, tokens=7, cost=3) for _ in range(2)])
    assert await limiter.consumption(KEY) == {
        Kind.REQUESTS: 2,
        Kind.TOKENS: 14,
        Kind.CONCURRENCY: 0,
        Kind.MONTHLY_TOKENS: 0,
        Kind.MONTHLY_MICROS: 0,
    }
    assert await limiter.consumption(ORG) == {
        Kind.REQUESTS: 0,
        Kind.TOKENS: 0,
        Kind.CONCURRENCY: 2,
        Kind.MONTHLY_TOKENS: 14,
        Kind.MONTHLY_MICROS: 6,
    }
    assert set((await limiter.consumption("org:nobody")).values()) == {0}


async def test_a_request_without_limits_is_always_admitted(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    decision = await limiter.admit(admission(tokens=10**6))
    assert decision.admitted
    assert (decision.requests, decision.tokens) == (None, None)
    assert decision.ticket is not None
    await limiter.settle(decision.ticket, tokens=5, cost_micros=5)


async def test_counters_stay_exact_at_the_largest_limits(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    huge = 10**15
    limits = (Limit(KEY, Kind.TOKENS, huge), Limit(ORG, Kind.MONTHLY_MICROS, huge))
    first = await limiter.admit(admission(*limits, tokens=huge - 1, cost=huge - 1))
    assert first.tokens is not None
    assert first.tokens.remaining == 1
    assert first.allowances == ((limits[1], 1),)
    assert (await limiter.admit(admission(*limits, tokens=1, cost=1))).admitted
    assert not (await limiter.admit(admission(*limits, tokens=1, cost=0))).admitted
    assert (await limiter.consumption(ORG))[Kind.MONTHLY_MICROS] == huge


async def test_a_missing_month_starts_from_the_ledger(make_limiter: LimiterFactory) -> None:
    calls: list[tuple[str, str]] = []

    async def baseline(scope: str, month: str) -> tuple[int, int]:
        calls.append((scope, month))
        return 900, 40

    limiter = make_limiter(baseline=baseline)
    limits = (Limit(ORG, Kind.MONTHLY_TOKENS, 1_000), Limit(ORG, Kind.MONTHLY_MICROS, 100))
    first = await limiter.admit(admission(*limits, tokens=100, cost=10))
    assert first.allowances == ((limits[0], 0), (limits[1], 50))
    assert not (await limiter.admit(admission(*limits, tokens=1))).admitted
    assert calls == [(ORG, month_of(time.time()))]
    assert await limiter.consumption(ORG) == {
        Kind.REQUESTS: 0,
        Kind.TOKENS: 0,
        Kind.CONCURRENCY: 0,
        Kind.MONTHLY_TOKENS: 1_000,
        Kind.MONTHLY_MICROS: 50,
    }
