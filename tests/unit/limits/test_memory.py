"""The in-process limiter on a clock the test controls: windows, months and leases roll over
exactly when the clock says, never a moment before."""

from __future__ import annotations

import calendar

from ias.limits import Admission, Kind, Limit, MemoryLimiter

START = calendar.timegm((2025, 1, 31, 23, 59, 0))  # a window boundary and a minute to February


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _admission(lease: str, *limits: Limit, tokens: int = 0, cost: int = 0) -> Admission:
    return Admission(lease, limits, tokens, cost)


async def test_a_window_is_sixty_aligned_seconds() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock=clock)
    rpm = Limit("key:k", Kind.REQUESTS, 2)
    assert (await limiter.admit(_admission("a", rpm))).admitted
    clock.now += 30
    assert (await limiter.admit(_admission("b", rpm))).admitted
    clock.now += 29.999
    refused = await limiter.admit(_admission("c", rpm))
    assert not refused.admitted
    assert abs(refused.retry_after_seconds - 0.001) < 1e-6
    clock.now += 0.001
    admitted = await limiter.admit(_admission("d", rpm))
    assert admitted.admitted
    assert admitted.requests is not None
    assert (admitted.requests.remaining, admitted.requests.reset_seconds) == (1, 60)


async def test_a_settlement_from_an_old_window_leaves_the_new_one_alone() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock=clock)
    tpm = Limit("key:k", Kind.TOKENS, 100)
    old = await limiter.admit(_admission("a", tpm, tokens=80))
    clock.now += 60
    assert old.ticket is not None
    new = await limiter.admit(_admission("b", tpm, tokens=50))
    await limiter.settle(old.ticket, tokens=0, cost_micros=0)
    assert new.ticket is not None
    assert (await limiter.consumption("key:k"))[Kind.TOKENS] == 50


async def test_monthly_counters_start_again_with_the_utc_month() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock=clock)
    quota = Limit("org:o", Kind.MONTHLY_TOKENS, 10)
    january = await limiter.admit(_admission("a", quota, tokens=10))
    assert january.ticket is not None
    assert january.ticket.month == "202501"
    refused = await limiter.admit(_admission("b", quota, tokens=1))
    assert refused.refused_by == quota
    assert refused.retry_after_seconds == 60  # February begins in a minute
    clock.now += 60
    february = await limiter.admit(_admission("c", quota, tokens=10))
    assert february.ticket is not None
    assert february.ticket.month == "202502"
    await limiter.settle(january.ticket, tokens=0, cost_micros=0)  # January's refund: no effect
    assert (await limiter.consumption("org:o"))[Kind.MONTHLY_TOKENS] == 10


async def test_leases_expire_after_their_ttl() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock=clock, lease_ttl_seconds=5)
    slots = Limit("org:o", Kind.CONCURRENCY, 1)
    assert (await limiter.admit(_admission("a", slots))).admitted
    clock.now += 4.999
    refused = await limiter.admit(_admission("b", slots))
    assert (refused.admitted, refused.retry_after_seconds) == (False, 1.0)
    clock.now += 0.001
    assert (await limiter.admit(_admission("c", slots))).admitted
    assert (await limiter.consumption("org:o"))[Kind.CONCURRENCY] == 1


async def test_the_baseline_is_asked_once_per_scope_and_month() -> None:
    clock = FakeClock()
    calls: list[tuple[str, str]] = []

    async def baseline(scope: str, month: str) -> tuple[int, int]:
        calls.append((scope, month))
        return 7, 700

    limiter = MemoryLimiter(clock=clock, baseline=baseline)
    limits = (Limit("org:o", Kind.MONTHLY_TOKENS, 10), Limit("org:o", Kind.MONTHLY_MICROS, 1000))
    decision = await limiter.admit(Admission("a", limits, 3, 300))
    assert decision.allowances == ((limits[0], 0), (limits[1], 0))
    assert not (await limiter.admit(Admission("b", limits, 1, 0))).admitted
    assert calls == [("org:o", "202501")]
    clock.now += 60
    assert (await limiter.admit(Admission("c", limits, 3, 0))).admitted
    assert calls == [("org:o", "202501"), ("org:o", "202502")]
