"""The throughput ceiling with `wrk` (Debian package `wrk`): a Lua script makes it POST."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson

MARKER = "WRK_RESULT "

# wrk calls `done` once at the end; it prints one line the benchmark parses.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "%s{\\"requests\\":%d,\\"duration_us\\":%d,\\"connect\\":%d,\\"read\\":%d,"
    .. "\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d}\\n",
    "MARKER", summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
""".replace("MARKER", MARKER)


def available() -> str | None:
    """wrk's version line, or None when it is not installed."""
    if shutil.which("wrk") is None:
        return None
    # `wrk --version` prints its banner and usage, and exits with status 1.
    banner = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer": keep name and version.
    return " ".join((banner.stdout or banner.stderr).split()[:2])


def _long_string(text: str) -> str:
    """A Lua long-bracket literal: no escaping needed for JSON bodies or header values."""
    level = "=" * 4
    if f"]{level}]" in text:
        raise ValueError("text cannot be quoted as a Lua long string")
    return f"[{level}[{text}]{level}]"


def lua_script(body: bytes, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_long_string(body.decode())}"]
    # The spaces matter: `t[[` would open a long string instead of indexing `t`.
    lines += [f"wrk.headers[ {_long_string(k)} ] = {_long_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE


def parse_output(stdout: str) -> dict[str, Any]:
    """wrk's summary as a dict; `ok` counts answers with a 2xx or 3xx status."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw = orjson.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError(f"wrk printed no result line:\n{stdout}")
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["status"]
    errors = sum(raw[name] for name in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests": ok,
        "errors": errors,
        "seconds": seconds,
        "rps": ok / seconds,
        "latency_ms": {"p50": raw["p50_us"] / 1000, "p99": raw["p99_us"] / 1000},
    }


def run(
    prefix: list[str],
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float,
    workdir: Path,
) -> dict[str, Any]:
    script = workdir / "post.lua"
    script.write_text(lua_script(body, headers))
    command = [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "10s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_output(done.stdout)
