"""One benchmark run: start the stack, warm up, run interleaved rounds, summarise."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ias
from bench.router import phases, wrk
from bench.router.config import MAX_TOKENS, BenchConfig, Target
from bench.router.processes import REPO, Pinning
from bench.router.procstat import rss_mb
from bench.router.stack import Stack, running_stack
from bench.router.summary import summarize
from bench.router.targets import evaluate

PARTS_ON = (
    "API-key auth ON (key checked and HMACed on every request, its record read from PostgreSQL "
    "once, then cached in-process); "
    "model routing and backend choice ON; metering ON (one usage event per request into the "
    "in-process memory sink; the durable RabbitMQ pipeline is not built yet); rate limits and "
    "quotas NOT YET IMPLEMENTED (so no Redis round trip per request)"
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _prime(target: Target) -> None:
    """One request, so the arm's caches and connection pools exist before memory is read."""
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by the benchmark
        target.chat_url, data=target.chat_body, headers=target.headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()


def _round(context: phases.Context, targets: list[Target], index: int) -> dict[str, Any]:
    order = targets if index % 2 == 0 else targets[::-1]
    config = context.config
    result: dict[str, Any] = {"order": [target.name for target in order], "throughput": {}}
    result["rates"] = {str(rate): {} for rate in config.rates}
    result["stream"] = {}
    label = f"round {index + 1}/{config.rounds}"
    for target in order:
        measured = phases.throughput(context, target)
        result["throughput"][target.name] = measured
        say(f"{label} throughput {target.name}: {measured['rps']:,.0f} req/s")
    for rate in config.rates:
        for target in order:
            measured = phases.fixed_rate(context, target, rate)
            result["rates"][str(rate)][target.name] = measured
            latency = measured["latency_ms"]
            say(
                f"{label} {rate} req/s {target.name}: p50 {latency['p50']:.2f} ms, "
                f"p99 {latency['p99']:.2f} ms, {measured['errors']} errors"
            )
    for target in order:
        measured = phases.streaming(context, target)
        result["stream"][target.name] = measured
        say(f"{label} streams {target.name}: TTFT p50 {measured['ttft_ms']['p50']:.2f} ms")
    return result


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, check=False)
    return done.stdout.strip()


def _code_under_test() -> str:
    """Which `ias` the servers ran: this checkout's commit, or a tree put first on PYTHONPATH."""
    if Path(ias.__file__).resolve().parents[2] != REPO:
        return "`ias` imported from outside this checkout (PYTHONPATH)"
    dirty = " with uncommitted changes" if _git("status", "--porcelain", "--", "src") else ""
    return f"commit {_git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _facts(
    config: BenchConfig, pinning: Pinning, wrk_version: str | None, seed: int
) -> dict[str, str]:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    seconds = f"{config.throughput_seconds:g} s"
    if wrk_version:
        throughput = f"{wrk_version}, 1 thread, {config.connections} connections, {seconds}"
    else:
        why = (
            "--python-loadgen given"
            if config.force_python_loadgen
            else "wrk is not installed: `apt-get install wrk`"
        )
        throughput = (
            f"Python closed-loop generator (aiohttp), {config.connections} connections, "
            f"{seconds} ({why}), so the client may set the ceiling before the router does"
        )
    rates = "/".join(f"{rate:,}" for rate in config.rates)
    return {
        "Machine": f"{os.cpu_count()} cores ({_cpu_model()}), Linux {platform.release()}, "
        f"load average at start {load}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Pinning": pinning.reason,
        "Request": f"non-streamed chat completion, one short user message, max_tokens "
        f"{MAX_TOKENS} (request seed {seed})",
        "Throughput load": throughput,
        "Latency load": f"Python open-loop generator (aiohttp, uvloop) at {rates} req/s, "
        f"{config.rate_seconds:g} s each, first 0.5 s discarded; latency counted from each "
        "request's scheduled send time (no coordinated omission)",
        "Streaming": f"{config.streams} streams one at a time, {config.stream_chunks} token "
        f"chunks each, {config.token_delay_seconds * 1000:g} ms between tokens (`mock.delay`)",
        "Rounds": f"{config.rounds}, arms interleaved, order reversed every other round; "
        "figures are medians across rounds, additions and ratios taken within each round",
        "Mock engine": "`ias serve mock-engine`, fast mode (no delay, fixed JSON), one process",
        "Router": "`ias serve router`, one process (uvicorn, uvloop, httptools), "
        + _code_under_test(),
        "Router parts": PARTS_ON,
    }


def _warm_up(context: phases.Context, stack: Stack) -> None:
    for target in stack.targets:
        phases.throughput(context, target, seconds=context.config.warmup_seconds)


def run(config: BenchConfig) -> dict[str, Any]:
    started = datetime.now(UTC)
    pinning = Pinning.detect()
    pinning.pin_self()
    wrk_version = None if config.force_python_loadgen else wrk.available()
    say(f"pinning: {pinning.reason}")
    say(f"throughput load: {wrk_version or 'Python closed-loop generator (wrk not used)'}")
    with running_stack(config, pinning) as stack:
        context = phases.Context(config, pinning, stack.workdir, use_wrk=wrk_version is not None)
        memory: dict[str, dict[str, float]] = {}
        for target in stack.targets:
            _prime(target)
            memory[target.name] = {"idle_mb": rss_mb(target.pid)}
        _warm_up(context, stack)
        rounds = [_round(context, stack.targets, index) for index in range(config.rounds)]
        for target in stack.targets:
            memory[target.name]["after_mb"] = rss_mb(target.pid)
        facts = _facts(config, pinning, wrk_version, stack.seed)
    arms = [target.name for target in stack.targets]
    summary = summarize(rounds, memory, arms)
    not_run = {} if config.litellm_bin else {"litellm": "pass --litellm PATH_TO_ITS_VENV_BIN"}
    meta = {
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "stamp": started.strftime("%Y%m%dT%H%M%SZ"),
        "facts": facts,
        "config": {
            "rounds": config.rounds,
            "connections": config.connections,
            "throughput_seconds": config.throughput_seconds,
            "rates": list(config.rates),
            "rate_seconds": config.rate_seconds,
            "streams": config.streams,
            "stream_chunks": config.stream_chunks,
            "token_delay_seconds": config.token_delay_seconds,
        },
        "loadgen": {"throughput_tool": "wrk" if wrk_version else "python", "wrk": wrk_version},
        "pinned": pinning.enabled,
        "not_run": not_run,
    }
    return {
        "meta": meta,
        "summary": summary,
        "checks": evaluate(summary, config.stream_chunks),
        "rounds": rounds,
    }
