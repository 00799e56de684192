"""One measurement of one arm: idle latency, throughput, latency at a fixed rate, or streaming.

Each phase runs its load generator in a separate process on the client core and reads the
arm's CPU time around it, so CPU per request is the arm's own cost, not the client's. The
throughput phase also reads the Redis server's CPU time: what the limits cost outside the
router (Redis is shared with whatever else uses it, so the arms without limits are the control).
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.router import wrk
from bench.router.config import BenchConfig, Target
from bench.router.processes import CLIENT_CORE, REPO, Pinning
from bench.router.procstat import cpu_seconds


@dataclass(frozen=True, slots=True)
class Context:
    config: BenchConfig
    pinning: Pinning
    workdir: Path
    use_wrk: bool
    redis_cpu: Callable[[], float] | None = None  # the Redis server's CPU seconds so far


def python_loadgen(context: Context, mode: str, target: Target, **options: Any) -> dict[str, Any]:
    command = [*context.pinning.prefix(CLIENT_CORE), sys.executable, "-m", "bench.router.loadgen"]
    done = subprocess.run(
        [*command, mode], input=target.spec(**options), capture_output=True, cwd=REPO, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} load generator failed:\n{done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


def _cpu(target: Target) -> float:
    return cpu_seconds(target.pid) if target.pid else math.nan


def _per(cpu_used: float, count: int) -> float:
    return cpu_used * 1000 / count if count else math.nan


def throughput(context: Context, target: Target, seconds: float | None = None) -> dict[str, Any]:
    seconds = context.config.throughput_seconds if seconds is None else seconds
    redis_before = context.redis_cpu() if context.redis_cpu else math.nan
    before = _cpu(target)
    if context.use_wrk:
        result = wrk.run(
            context.pinning.prefix(CLIENT_CORE),
            target.chat_url,
            target.chat_body,
            target.headers,
            connections=context.config.connections,
            seconds=seconds,
            workdir=context.workdir,
        )
    else:
        result = python_loadgen(
            context, "closed", target, connections=context.config.connections, seconds=seconds
        )
    result["cpu_ms_per_request"] = _per(_cpu(target) - before, result["requests"])
    redis_used = (context.redis_cpu() if context.redis_cpu else math.nan) - redis_before
    result["redis_cpu_ms_per_request"] = _per(redis_used, result["requests"])
    return result


def fixed_rate(context: Context, target: Target, rate: int) -> dict[str, Any]:
    return python_loadgen(context, "open", target, rate=rate, seconds=context.config.rate_seconds)


def streaming(context: Context, target: Target) -> dict[str, Any]:
    before = _cpu(target)
    result = python_loadgen(context, "stream", target, streams=context.config.streams)
    result["cpu_ms_per_stream"] = _per(_cpu(target) - before, result["streams"] - result["errors"])
    return result


def idle(context: Context, target: Target) -> dict[str, Any]:
    """One request at a time: the latency the arm adds when it has nothing else to do."""
    return python_loadgen(context, "sequential", target, requests=context.config.idle_requests)
