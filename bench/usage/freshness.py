"""Freshness: from the end of a response to its request being counted by the usage API.

Requests go through the router at a steady rate, one at a time per slot; the moment each
response has been read is noted. Meanwhile the usage API's minute totals for the org are read
every `POLL_SECONDS`: the n-th response to end is visible once the total reaches n (the API
counts requests, not ids, so the n-th end is matched with the n-th count — the order of
arrival in the ledger may differ slightly, which shifts single figures, not the percentiles).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from bench.router.config import MODEL
from bench.router.runner import say
from bench.router.stats import percentile
from bench.usage.setup import UsageStack

POLL_SECONDS = 0.05
SETTLE_SECONDS = 30.0


async def _login(client: httpx.AsyncClient, stack: UsageStack) -> str:
    response = await client.post(
        f"{stack.control.url}/api/auth/login",
        json={"email": stack.email, "password": stack.password},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _requests_counted(client: httpx.AsyncClient, stack: UsageStack, token: str) -> int:
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = await client.get(
        f"{stack.control.url}/api/orgs/{stack.org_id}/usage",
        params={"granularity": "minute", "start": start},
        headers={"authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return int(response.json()["totals"]["requests"])


async def _send(client: httpx.AsyncClient, stack: UsageStack, ends: list[float]) -> None:
    body = orjson.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    )
    response = await client.post(
        f"{stack.router.url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {stack.key}", "content-type": "application/json"},
    )
    response.raise_for_status()
    ends.append(time.monotonic())


async def measure_freshness(stack: UsageStack, rate: float, seconds: float) -> dict[str, object]:
    ends: list[float] = []
    seen: list[tuple[float, int]] = []  # (when, requests counted)
    async with httpx.AsyncClient(timeout=30) as client:
        token = await _login(client, stack)
        baseline = await _requests_counted(client, stack, token)
        total = int(rate * seconds)

        async def poll() -> None:
            while len(seen) == 0 or seen[-1][1] - baseline < total:
                seen.append((time.monotonic(), await _requests_counted(client, stack, token)))
                await asyncio.sleep(POLL_SECONDS)

        poller = asyncio.create_task(poll())
        senders = []
        started = time.monotonic()
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            senders.append(asyncio.create_task(_send(client, stack, ends)))
        await asyncio.gather(*senders)
        await asyncio.wait_for(poller, SETTLE_SECONDS)
    ends.sort()
    delays = []
    for index, ended in enumerate(ends, start=1):
        visible = next(when for when, count in seen if count - baseline >= index)
        delays.append(max(0.0, visible - ended))
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    say(f"freshness: p50 {p50:.3f} s, p99 {p99:.3f} s over {len(delays)} requests")
    return {
        "requests": len(delays),
        "rate": rate,
        "p50_s": round(p50, 3),
        "p99_s": round(p99, 3),
        "max_s": round(max(delays), 3),
    }
