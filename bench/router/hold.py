"""The client side of the open-streams phase: many streams held open at once.

    python -m bench.router.loadgen hold   < spec line, then a release line   > two result lines

It opens `streams` streaming chat completions at once, one connection each, and waits until
every one has received its first token chunk (or failed, or `open_seconds` passed). Then it
prints one line, `{"opened": …}`, and keeps the streams open, reading whatever arrives, until
a second line (or the end of its standard input) tells it to let go: the benchmark reads the
arm's memory in between. It then closes every connection and the load generator prints the
final result line.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.router.fdlimit import raise_soft_limit
from bench.router.sse import split_events, token_event
from bench.router.stats import latency_summary

# No overall time limit: a held stream is meant to outlive any sensible one.
HOLD_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30)


@dataclass
class Tally:
    """How the held streams are doing, updated by each stream's task."""

    streams: int
    opened: int = 0  # received their first token chunk
    failed: int = 0  # an error status, or the connection failed before the first token
    ended: int = 0  # finished by themselves: no longer open
    first_token_ms: list[float] = field(default_factory=list)
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    def settle(self) -> None:
        if self.opened + self.failed >= self.streams:
            self.all_in.set()


async def _hold_one(
    session: aiohttp.ClientSession, spec: dict[str, Any], body: bytes, tally: Tally
) -> None:
    sent = time.perf_counter()
    opened = False
    try:
        async with session.post(spec["url"], data=body, headers=spec["headers"]) as response:
            if response.status != 200:
                await response.read()
                tally.failed += 1
                return
            buffer = b""
            async for data in response.content.iter_any():
                if opened:
                    continue  # only the first token matters; the rest is drained
                events, buffer = split_events(buffer, data)
                if any(token_event(event) for event in events):
                    opened = True
                    tally.opened += 1
                    tally.first_token_ms.append((time.perf_counter() - sent) * 1000)
                    tally.settle()
        if opened:
            tally.ended += 1
        else:
            tally.failed += 1  # ended without a single token
    except (aiohttp.ClientError, TimeoutError):
        if opened:
            tally.ended += 1
        else:
            tally.failed += 1
    finally:
        tally.settle()


def _emit(line: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
    sys.stdout.buffer.flush()


async def hold(spec: dict[str, Any]) -> dict[str, Any]:
    raise_soft_limit()  # one socket per stream
    count, open_seconds = int(spec["streams"]), float(spec["open_seconds"])
    body = spec["hold_body"].encode()
    tally = Tally(count)
    connector = aiohttp.TCPConnector(limit=0)  # no pool limit: every stream its own connection
    async with aiohttp.ClientSession(connector=connector, timeout=HOLD_TIMEOUT) as session:
        started = time.perf_counter()
        tasks = [asyncio.create_task(_hold_one(session, spec, body, tally)) for _ in range(count)]
        # Past the deadline, fewer opened than asked for: the result says so.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_in.wait(), open_seconds)
        seconds_to_open = time.perf_counter() - started
        _emit({"opened": tally.opened, "failed": tally.failed, "ended": tally.ended})
        # The benchmark reads the arm's memory now; it writes a line when it is done.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.readline)
        ended_while_held = tally.ended
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "streams": count,
        "opened": tally.opened,
        "failed": tally.failed,
        "ended_while_held": ended_while_held,
        "seconds_to_open": seconds_to_open,
        "first_token_ms": latency_summary(tally.first_token_ms),
    }
