"""Limits hold across concurrent requests and across routers: one global count, never one per
router, and never more billed than a quota allows (R7)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import Counter

import pytest

from ias.limits import Admission, Kind, Limit, RedisLimiter, redis_limiter_client
from tests.conftest import REDIS_URL
from tests.integration.limits.conftest import TEST_TIMEOUT_SECONDS, LimiterFactory

pytestmark = pytest.mark.redis

QUOTA = Limit("org:o", Kind.MONTHLY_TOKENS, 5)


def _admission(*limits: Limit, tokens: int = 0) -> Admission:
    return Admission(uuid.uuid4().hex, limits, tokens, 0)


async def test_fifty_parallel_requests_against_a_quota_of_five(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter()
    decisions = await asyncio.gather(
        *(limiter.admit(_admission(QUOTA, tokens=1)) for _ in range(50))
    )
    tickets = [decision.ticket for decision in decisions if decision.ticket is not None]
    assert len(tickets) == 5
    await asyncio.gather(*(limiter.settle(t, tokens=1, cost_micros=0) for t in tickets))
    assert (await limiter.consumption("org:o"))[Kind.MONTHLY_TOKENS] == 5


async def test_fifty_parallel_requests_while_the_month_is_rebuilt_from_the_ledger(
    make_limiter: LimiterFactory,
) -> None:
    async def slow_baseline(scope: str, month: str) -> tuple[int, int]:
        await asyncio.sleep(0.01)  # every request finds the month missing and asks
        return 2, 0

    limiter = make_limiter(baseline=slow_baseline)
    decisions = await asyncio.gather(
        *(limiter.admit(_admission(QUOTA, tokens=1)) for _ in range(50))
    )
    assert sum(decision.admitted for decision in decisions) == 3
    assert (await limiter.consumption("org:o"))[Kind.MONTHLY_TOKENS] == 5


async def test_two_limiters_sharing_redis_enforce_one_limit(prefix: str) -> None:
    routers = [
        RedisLimiter(
            redis_limiter_client(REDIS_URL, timeout_seconds=TEST_TIMEOUT_SECONDS), prefix=prefix
        )
        for _ in range(2)
    ]
    limits = (Limit("key:k", Kind.REQUESTS, 10), Limit("org:o", Kind.CONCURRENCY, 7))
    try:
        decisions = await asyncio.gather(
            *(routers[i % 2].admit(_admission(*limits)) for i in range(40))
        )
        assert sum(decision.admitted for decision in decisions) == 7
        for index, decision in enumerate(decisions):
            if decision.ticket is not None:
                await routers[(index + 1) % 2].settle(decision.ticket, tokens=0, cost_micros=0)
        more = [await routers[i % 2].admit(_admission(*limits)) for i in range(10)]
        assert sum(decision.admitted for decision in more) == 3  # the RPM limit is global too
    finally:
        for router in routers:
            await router.close()


_ROUTER = """
import asyncio, json, sys, uuid
from ias.limits import Admission, Kind, Limit, RedisLimiter, redis_limiter_client

async def main(url, prefix):
    limiter = RedisLimiter(redis_limiter_client(url, timeout_seconds=2), prefix=prefix,
                           window_seconds=3600)
    rpm = (Limit("key:shared", Kind.REQUESTS, 25),)
    decisions = await asyncio.gather(
        *(limiter.admit(Admission(uuid.uuid4().hex, rpm, 0, 0)) for _ in range(40))
    )
    print(json.dumps([d.ticket.window for d in decisions if d.ticket is not None]))
    await limiter.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_router_processes_sharing_redis_enforce_one_limit(prefix: str) -> None:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _ROUTER, REDIS_URL, prefix, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = await asyncio.gather(*(process.communicate() for process in processes))
    assert [process.returncode for process in processes] == [0, 0]
    per_window = Counter(window for out, _ in outputs for window in json.loads(out))
    # Eighty attempts against 25 an hour: never more than 25 in a window (an hour boundary
    # mid-run would split them in two), and the window that took most of them is full.
    assert max(per_window.values()) == 25
