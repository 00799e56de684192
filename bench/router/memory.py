"""Memory per 1,000 open streams: what holding streams open costs an arm in resident memory.

With the arm idle, its RSS is read; a load generator (`hold` mode, on the client core) opens
the streams at once and waits until every one has its first token chunk; the RSS is read again
while they are all open; then they are closed. The streams are slow on purpose (the engine
waits `hold_token_delay_seconds` before their second token), so none ends while held.

After the streams are closed the phase waits until the engine has nothing running: a proxy
that lets its upstream streams run on after its clients left (rather than cancelling them)
keeps the engine busy, and that would be charged to the next arm. How long it took is reported.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import orjson

from bench.router.config import Target
from bench.router.phases import Context
from bench.router.processes import CLIENT_CORE, REPO
from bench.router.procstat import rss_mb

# The streams must all be open before the first of them gets its second token: the load
# generator gives up waiting for stragglers after this share of the token delay.
OPEN_SHARE = 0.75
IDLE_POLL_SECONDS = 0.2
_BUSY = re.compile(r"^vllm:num_requests_(?:running|waiting)\{[^}]*\} (\S+)$", re.MULTILINE)


def per_thousand_mb(idle_mb: float, open_mb: float, streams: int) -> float:
    """(open - idle) scaled to 1,000 streams; NaN when no stream was open."""
    if streams <= 0:
        return math.nan
    return (open_mb - idle_mb) * 1000 / streams


def engine_busy(metrics: str) -> int:
    """Requests the mock engine is running or queueing, from its Prometheus `/metrics` text."""
    return round(sum(float(value) for value in _BUSY.findall(metrics)))


def _engine_busy_now(engine_url: str) -> int:
    with urllib.request.urlopen(engine_url + "/metrics", timeout=5) as response:  # noqa: S310
        return engine_busy(response.read().decode())


def wait_until_engine_idle(engine_url: str, most_seconds: float) -> float:
    """Seconds until the engine runs nothing (NaN if it still does after `most_seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < most_seconds:
        try:
            if _engine_busy_now(engine_url) == 0:
                return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(IDLE_POLL_SECONDS)
    return math.nan


def _log_tail(context: Context) -> str:
    path = context.workdir / "hold.log"
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"


def open_streams(context: Context, target: Target, engine_url: str) -> dict[str, Any]:
    config = context.config
    spec = target.spec(
        streams=config.open_streams,
        open_seconds=config.hold_token_delay_seconds * OPEN_SHARE,
    )
    command = [*context.pinning.prefix(CLIENT_CORE), sys.executable, "-m", "bench.router.loadgen"]
    idle_mb = rss_mb(target.pid)
    with (context.workdir / "hold.log").open("ab") as log:
        process = subprocess.Popen(
            [*command, "hold"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(spec + b"\n")
        process.stdin.flush()
        # The first line comes once every stream has its first token (or the wait ran out).
        held_line = process.stdout.readline()
        open_mb = rss_mb(target.pid)
        try:
            process.stdin.write(b"release\n")
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died: reported below
        rest = process.stdout.read()
        process.wait()
    if not held_line or process.returncode != 0:
        raise RuntimeError(f"the hold load generator failed:\n{_log_tail(context)}")
    result: dict[str, Any] = orjson.loads(rest.splitlines()[-1])
    result["idle_mb"] = idle_mb
    result["open_mb"] = open_mb
    result["mb_per_1000"] = per_thousand_mb(idle_mb, open_mb, result["opened"])
    result["complete"] = result["opened"] == result["streams"] and not result["ended_while_held"]
    most = config.hold_token_delay_seconds + 30
    result["engine_busy_after_close_s"] = wait_until_engine_idle(engine_url, most)
    return result
