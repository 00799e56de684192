"""One benchmark run: start the stack, warm up, run interleaved rounds, summarise."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import ias
from bench.router import machine, memory, phases, wrk
from bench.router.config import LIMITED, LIMITS, MAX_TOKENS, ROUTER, BenchConfig, Target
from bench.router.fdlimit import needed, raise_soft_limit
from bench.router.processes import REPO, Pinning
from bench.router.procstat import rss_mb
from bench.router.stack import Stack, running_stack
from bench.router.summary import summarize
from bench.router.targets import evaluate

# What each router arm runs. Update it when the router gains or loses a part on the hot path.
PARTS_ON = (
    f"**{ROUTER}** arm: API-key auth ON (key checked and HMACed on every request, its record "
    "read from PostgreSQL once, then cached in-process); model routing and backend choice ON; "
    "metering ON (per request: a journal entry before the backend call and the usage event "
    "appended to the on-disk spool after it, relayed in batches to RabbitMQ with publisher "
    "confirms, consumed by `ias worker usage` into PostgreSQL); limits OFF "
    "(its key and org carry none, so no Redis call per request). "
    f"**{LIMITED}** arm: the same router process with the same parts, and limits ON on Redis "
    "(its key, org and per-model org rows carry all 10 limits, set too high ever to refuse, so "
    "every request runs one Redis Lua call at admission and one at settlement)"
)
LOG_LINES_ON_FAILURE = 30
RATE_LIMIT_HEADER = "x-ratelimit-limit-requests"  # sent on every admitted response with limits


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _prime(target: Target, log_path: Path) -> dict[str, str]:
    """One request, so the arm's caches and connection pools exist before memory is read.

    Returns the response headers (lower-cased names); a failure stops the run with the answer
    and the end of the router's log, which is all there is to go on once the stack is gone."""
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by the benchmark
        target.chat_url, data=target.chat_body, headers=target.headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            return {name.lower(): value for name, value in response.headers.items()}
    except urllib.error.HTTPError as exc:
        log = log_path.read_text(errors="replace").splitlines()[-LOG_LINES_ON_FAILURE:]
        raise SystemExit(
            f"the first request to the {target.name} arm failed: HTTP {exc.code} "
            f"{exc.read().decode(errors='replace')}\nrouter log (last lines):\n" + "\n".join(log)
        ) from None


def _check_limits(target: Target, headers: dict[str, str]) -> None:
    """The router arms must differ exactly by their limits, or their comparison means nothing."""
    limited = RATE_LIMIT_HEADER in headers
    if target.name == LIMITED and not limited:
        raise SystemExit(f"the {LIMITED} arm was answered without {RATE_LIMIT_HEADER}")
    if target.name == ROUTER and limited:
        raise SystemExit(f"the {ROUTER} arm was answered with {RATE_LIMIT_HEADER}: it has limits")


def _measured(stack: Stack, phase: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Runs one phase and counts the limiter's fallbacks to memory while it ran."""
    stack.settle_ledger()
    before = stack.limiter_fallbacks()
    result = phase()
    result["limiter_fallbacks"] = stack.limiter_fallbacks() - before
    return result


def _round(stack: Stack, context: phases.Context, index: int) -> dict[str, Any]:
    targets = stack.targets
    order = targets if index % 2 == 0 else targets[::-1]
    config = context.config
    result: dict[str, Any] = {"order": [target.name for target in order], "idle": {}}
    result["throughput"] = {}
    result["rates"] = {str(rate): {} for rate in config.rates}
    result["stream"] = {}
    label = f"round {index + 1}/{config.rounds}"
    fallbacks = 0
    for target in order:
        measured = _measured(stack, partial(phases.idle, context, target))
        result["idle"][target.name] = measured
        fallbacks += measured["limiter_fallbacks"]
        latency = measured["latency_ms"]
        say(
            f"{label} idle {target.name}: p50 {latency['p50']:.2f} ms, "
            f"p99 {latency['p99']:.2f} ms, {measured['errors']} errors"
        )
    for target in order:
        measured = _measured(stack, partial(phases.throughput, context, target))
        result["throughput"][target.name] = measured
        fallbacks += measured["limiter_fallbacks"]
        say(f"{label} throughput {target.name}: {measured['rps']:,.0f} req/s")
    for rate in config.rates:
        for target in order:
            measured = _measured(stack, partial(phases.fixed_rate, context, target, rate))
            result["rates"][str(rate)][target.name] = measured
            fallbacks += measured["limiter_fallbacks"]
            latency = measured["latency_ms"]
            say(
                f"{label} {rate} req/s {target.name}: p50 {latency['p50']:.2f} ms, "
                f"p99 {latency['p99']:.2f} ms, {measured['errors']} errors"
            )
    for target in order:
        measured = _measured(stack, partial(phases.streaming, context, target))
        result["stream"][target.name] = measured
        fallbacks += measured["limiter_fallbacks"]
        say(f"{label} streams {target.name}: TTFT p50 {measured['ttft_ms']['p50']:.2f} ms")
    result["limiter_fallbacks"] = fallbacks
    if fallbacks:
        say(f"{label}: the limiter fell back to memory {fallbacks} times")
    return result


@contextmanager
def _fresh(stack: Stack, target: Target) -> Iterator[Target]:
    """The arm as the open-streams phase measures it: in a process that has never held streams.

    Both router arms are one process, and memory freed when the first arm's streams close is
    kept for reuse, so the second arm measured there would look cheaper than it is. The limits
    arm is therefore measured on a second router process, started for it and primed with its
    key (the same command and settings, its own home), which is stopped afterwards."""
    if target.name != LIMITED:
        yield target
        return
    with stack.fresh_router() as server:
        fresh = replace(target, base_url=server.url + "/v1", pid=server.pid)
        _check_limits(fresh, _prime(fresh, server.log_path))
        yield fresh


def _open_streams(stack: Stack, context: phases.Context) -> dict[str, dict[str, Any]]:
    """Memory per 1,000 open streams, once per arm, before any load: each arm's process fresh."""
    results = {}
    for target in stack.targets:
        with _fresh(stack, target) as arm:
            measured = _measured(
                stack, partial(memory.open_streams, context, arm, stack.engine.url)
            )
        results[target.name] = measured
        say(
            f"open streams {target.name}: {measured['opened']:,} of {measured['streams']:,} open "
            f"in {measured['seconds_to_open']:.1f} s, RSS {measured['idle_mb']:.0f} → "
            f"{measured['open_mb']:.0f} MB, {measured['mb_per_1000']:.1f} MB per 1,000"
        )
    return results


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, check=False)
    return done.stdout.strip()


def _code_under_test() -> str:
    """Which `ias` the servers ran: this checkout's commit, or a tree put first on PYTHONPATH."""
    if Path(ias.__file__).resolve().parents[2] != REPO:
        return "`ias` imported from outside this checkout (PYTHONPATH)"
    dirty = " with uncommitted changes" if _git("status", "--porcelain", "--", "src") else ""
    return f"commit {_git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}"


def _facts(
    config: BenchConfig,
    stack: Stack,
    wrk_version: str | None,
    fallbacks: tuple[int, dict[str, int]],
    code: str,
    host: dict[str, Any],
    descriptors: int,
) -> dict[str, str]:
    pinning, seed = stack.pinning, stack.seed
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
    facts = {
        "Machine": f"{host['cores']} cores ({host['cpu_model']}), {host['ram_gib']:g} GiB RAM, "
        f"{host['kernel']}, load average at start {host['load_average']}",
        "Python": host["python"],
        "Pinning": pinning.reason,
        "Request": f"non-streamed chat completion, one short user message, max_tokens "
        f"{MAX_TOKENS} (request seed {seed})",
        "Throughput load": throughput,
        "Latency load": f"Python open-loop generator (aiohttp, uvloop) at {rates} req/s, "
        f"{config.rate_seconds:g} s each, first 0.5 s discarded; latency counted from each "
        "request's scheduled send time (no coordinated omission)",
        "Idle latency": f"{config.idle_requests} requests one at a time on one kept-alive "
        "connection (Python generator), every round",
        "Streaming": f"{config.streams} streams one at a time, {config.stream_chunks} token "
        f"chunks each, {config.token_delay_seconds * 1000:g} ms between tokens (`mock.delay`)",
        "Open streams": f"{config.open_streams:,} streams opened at once, one connection each "
        "(Python generator); the arm's RSS read idle, then once every stream has its first "
        f"token chunk (the next comes {config.hold_token_delay_seconds:g} s later), then "
        "they are closed; once per arm, before the warm-up, each in a process that has not "
        f"held streams before ({LIMITED}: a second router process started for it); file "
        f"descriptors: soft limit {_fd_limit_text(descriptors, config.open_streams)}",
        "Rounds": f"{config.rounds}, arms interleaved, order reversed every other round; "
        "figures are medians across rounds, additions and ratios taken within each round",
        "Mock engine": "`ias serve mock-engine`, fast mode (no delay, fixed JSON), one process",
        "Router": f"`ias serve router`, one process (uvicorn, uvloop, httptools), {code}",
        "Router parts": PARTS_ON,
        f"Limits of the {LIMITED} arm": LIMITS.describe(),
        "Limiter fallbacks": _fallbacks_fact(*fallbacks),
    }
    if stack.litellm_info is not None:
        facts["LiteLLM"] = (
            f"{stack.litellm_info.version} in its own virtualenv, 1 worker, no callbacks, local "
            f"price list, telemetry off; network: {stack.litellm_info.offline}"
        )
    return facts


def _fd_limit_text(soft: int, streams: int) -> str:
    enough = "enough" if soft >= needed(streams) else "**too few**"
    return f"{soft:,} ({enough} for {needed(streams):,})"


def _fallbacks_fact(count: int, causes: dict[str, int]) -> str:
    text = (
        f"{count} during the rounds (each is a switch to limiting from memory after a Redis "
        "limiter call failed or took over its 50 ms budget; the router goes back to Redis when "
        "a call answers again"
    )
    if not count:
        return text + ")"
    by_cause = ", ".join(f"`{cause}` {times}" for cause, times in causes.items())
    return (
        f"{text}: the {LIMITED} arm was partly measured without Redis, which flatters it); "
        f"by cause, warm-up included: {by_cause}"
    )


def _warm_up(context: phases.Context, stack: Stack) -> None:
    for target in stack.targets:
        phases.throughput(context, target, seconds=context.config.warmup_seconds)


def run(config: BenchConfig) -> dict[str, Any]:
    started = datetime.now(UTC)
    host = machine.describe()  # before the servers start: the load average of a quiet machine
    pinning = Pinning.detect()
    pinning.pin_self()
    # Before the servers start, which inherit it: a thousand open streams need the descriptors.
    descriptors = raise_soft_limit()
    if descriptors < needed(config.open_streams):
        say(
            f"warning: {descriptors:,} file descriptors allowed, {config.open_streams:,} open "
            f"streams may need {needed(config.open_streams):,} (raise the hard limit)"
        )
    wrk_version = None if config.force_python_loadgen else wrk.available()
    say(f"pinning: {pinning.reason}")
    say(f"throughput load: {wrk_version or 'Python closed-loop generator (wrk not used)'}")
    code = _code_under_test()  # before the servers start: the tree may change during the run
    say(f"code under test: {code}")
    with running_stack(config, pinning) as stack:
        context = phases.Context(
            config,
            pinning,
            stack.workdir,
            use_wrk=wrk_version is not None,
            redis_cpu=stack.redis_cpu_seconds,
        )
        rss: dict[str, dict[str, float]] = {}
        for target in stack.targets:
            _check_limits(target, _prime(target, stack.router.log_path))
            rss[target.name] = {"idle_mb": rss_mb(target.pid)}
        open_streams = _open_streams(stack, context)
        _warm_up(context, stack)
        rounds = [_round(stack, context, index) for index in range(config.rounds)]
        for target in stack.targets:
            rss[target.name]["after_mb"] = rss_mb(target.pid)
        fallbacks = sum(round_["limiter_fallbacks"] for round_ in rounds)
        causes = dict(stack.limiter_fallback_causes().most_common())  # warm-up included
        facts = _facts(config, stack, wrk_version, (fallbacks, causes), code, host, descriptors)
        litellm = stack.litellm_info
    arms = [target.name for target in stack.targets]
    summary = summarize(rounds, rss, arms, open_streams)
    not_run = {} if config.litellm_bin else {"litellm": "pass --litellm PATH_TO_ITS_VENV_BIN"}
    meta = {
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "stamp": started.strftime("%Y%m%dT%H%M%SZ"),
        "command": machine.command(),
        "code": code,
        "machine": {
            **host,
            "pinning": pinning.reason,
            "wrk": wrk_version,
            "litellm": litellm.version if litellm else None,
            "litellm_offline": litellm.offline if litellm else None,
        },
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
            "idle_requests": config.idle_requests,
            "open_streams": config.open_streams,
            "hold_token_delay_seconds": config.hold_token_delay_seconds,
        },
        "loadgen": {"throughput_tool": "wrk" if wrk_version else "python", "wrk": wrk_version},
        "pinned": pinning.enabled,
        "not_run": not_run,
        "limiter_fallbacks": fallbacks,
        "limiter_fallback_causes": causes,
    }
    return {
        "meta": meta,
        "summary": summary,
        "checks": evaluate(summary, config.stream_chunks, fallbacks),
        "rounds": rounds,
        "open_streams": open_streams,
    }
