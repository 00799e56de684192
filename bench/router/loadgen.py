"""The Python load generators, each run as its own process (pinned beside the mock engine).

    python -m bench.router.loadgen closed|open|stream|sequential|hold   < spec.json   > result.json

* `closed`: N connections, each sending its next request as soon as the last one is answered,
  for D seconds: the throughput ceiling when `wrk` is not installed.
* `open`: requests sent on a fixed schedule whatever the answers do, latency counted from each
  request's scheduled time, so a stall is charged to every request it delayed (no coordinated
  omission).
* `stream`: one stream at a time, every SSE event timestamped as it is read off the socket.
* `sequential`: one request at a time on one connection: the latency an idle arm adds.
* `hold`: many streams held open at once while the benchmark reads the arm's memory
  (`bench/router/hold.py`).
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from typing import Any

import aiohttp
import orjson
import uvloop

from bench.router.hold import hold
from bench.router.sse import split_events, token_event
from bench.router.stats import gaps, latency_summary, median

Spec = dict[str, Any]
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=30)
DRAIN_SECONDS = 10.0  # how long an open-loop phase waits for answers after its last send


async def _post(session: aiohttp.ClientSession, spec: Spec, body: bytes) -> int:
    async with session.post(spec["url"], data=body, headers=spec["headers"]) as response:
        await response.read()
        return response.status


async def closed_loop(spec: Spec) -> dict[str, Any]:
    connections, duration = int(spec["connections"]), float(spec["seconds"])
    body = spec["chat_body"].encode()
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=CLIENT_TIMEOUT) as session:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                took = await _timed_post(session, spec, body)
                if took is None:
                    errors += 1
                else:
                    latencies.append(took)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "latency_ms": latency_summary(latencies),
    }


async def _timed_post(session: aiohttp.ClientSession, spec: Spec, body: bytes) -> float | None:
    """Milliseconds until a 200 answer was read; None for anything else."""
    sent = time.perf_counter()
    try:
        status = await _post(session, spec, body)
    except (aiohttp.ClientError, TimeoutError):
        return None
    return (time.perf_counter() - sent) * 1000 if status == 200 else None


async def sequential(spec: Spec) -> dict[str, Any]:
    count = int(spec["requests"])
    body = spec["chat_body"].encode()
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=1)  # one kept-alive connection, as an idle client
    async with aiohttp.ClientSession(connector=connector, timeout=CLIENT_TIMEOUT) as session:
        for _ in range(count):
            took = await _timed_post(session, spec, body)
            if took is None:
                errors += 1
            else:
                latencies.append(took)
    return {"requests": len(latencies), "errors": errors, "latency_ms": latency_summary(latencies)}


async def open_loop(spec: Spec) -> dict[str, Any]:
    rate, duration = float(spec["rate"]), float(spec["seconds"])
    warmup = float(spec.get("warmup_seconds", 0.5))
    body = spec["chat_body"].encode()
    count = round(rate * duration)
    latencies: list[float] = []  # from the scheduled send time: what a user waits
    service: list[float] = []  # from the actual send time: without the client's own lateness
    lags: list[float] = []
    errors = 0
    last_answer = 0.0
    connector = aiohttp.TCPConnector(limit=1000)
    async with aiohttp.ClientSession(connector=connector, timeout=CLIENT_TIMEOUT) as session:

        async def one(scheduled: float, measured: bool) -> None:
            nonlocal errors, last_answer
            sent = time.perf_counter()
            try:
                status = await _post(session, spec, body)
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            done = time.perf_counter()
            last_answer = max(last_answer, done)
            if not measured:
                return
            if status == 200:
                latencies.append((done - scheduled) * 1000)
                service.append((done - sent) * 1000)
            else:
                errors += 1

        start = time.perf_counter() + 0.05
        tasks = []
        for index in range(count):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            measured = index / rate >= warmup
            if measured:
                lags.append((time.perf_counter() - scheduled) * 1000)
            tasks.append(asyncio.create_task(one(scheduled, measured)))
        _, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        sent = len(lags)
        timed_out = len(pending)
    first_measured = start + math.ceil(warmup * rate) / rate
    window = max(last_answer - first_measured, 1e-9)
    return {
        "rate": rate,
        "sent": sent,
        "ok": len(latencies),
        "errors": errors + timed_out,
        "achieved_rps": len(latencies) / window,
        "latency_ms": latency_summary(latencies),
        "service_ms": latency_summary(service),
        "send_lag_ms": latency_summary(lags),
    }


async def _one_stream(session: aiohttp.ClientSession, spec: Spec, body: bytes) -> dict[str, Any]:
    sent = time.perf_counter()
    events = arrivals = 0
    token_times: list[float] = []
    buffer = b""
    async with session.post(spec["url"], data=body, headers=spec["headers"]) as response:
        if response.status != 200:
            await response.read()
            return {"error": response.status}
        async for data in response.content.iter_any():
            now = time.perf_counter()
            complete, buffer = split_events(buffer, data)
            tokens_before = len(token_times)
            for event in complete:
                events += 1
                if token_event(event):
                    token_times.append(now)
            arrivals += len(token_times) > tokens_before
    ttft = (token_times[0] - sent) * 1000 if token_times else math.nan
    return {
        "ttft_ms": ttft,
        "events": events,
        "tokens": len(token_times),
        "token_arrivals": arrivals,
        "gaps_ms": [gap * 1000 for gap in gaps(token_times)],
    }


async def streams(spec: Spec) -> dict[str, Any]:
    body = spec["stream_body"].encode()
    results = []
    async with aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as session:
        for _ in range(int(spec["streams"])):
            results.append(await _one_stream(session, spec, body))
    good = [result for result in results if "error" not in result]
    all_gaps = [gap for result in good for gap in result["gaps_ms"]]
    return {
        "streams": len(results),
        "errors": len(results) - len(good),
        "ttft_ms": latency_summary([result["ttft_ms"] for result in good]),
        "gap_ms": latency_summary(all_gaps),
        "events_per_stream": sorted({result["events"] for result in good}),
        "tokens_per_stream": sorted({result["tokens"] for result in good}),
        "token_arrivals_median": median(result["token_arrivals"] for result in good),
    }


MODES = {
    "closed": closed_loop,
    "open": open_loop,
    "stream": streams,
    "sequential": sequential,
    "hold": hold,
}


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) == 2 else ""
    if mode not in MODES:
        raise SystemExit(f"usage: python -m bench.router.loadgen {{{','.join(MODES)}}} < spec")
    # The spec is the first line (or all) of standard input: `hold` reads a second line later.
    spec = orjson.loads(sys.stdin.buffer.readline())
    # uvloop: a cheaper client loop leaves more of the shared core to the mock engine.
    result = uvloop.run(MODES[mode](spec))
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
