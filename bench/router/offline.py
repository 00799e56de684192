"""Does the LiteLLM arm stay off the network? Checked with `strace` before it is measured.

LiteLLM can download its model price list at startup and send telemetry; the benchmark turns
both off (`bench/router/litellm.py`), and nothing may be fetched at run time. To know rather
than hope, the run starts LiteLLM once under `strace -f` (every thread and child process),
sends it one chat completion and one stream, stops it, and looks at every `connect()` it made:
anything but loopback, or a name lookup (the name service cache's socket, or port 53), fails
the run. The traced process is slow, so it is never the one measured: the arm is started
again, untraced, afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.router.processes import Server
from bench.router.procstat import process_tree

TRACE = ["strace", "-f", "-qq", "-e", "trace=connect,execve"]
STOP_SECONDS = 15.0
_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+), ([^}]*)\}")
_PORT = re.compile(r"htons\((\d+)\)")
_IPV4 = re.compile(r'inet_addr\("([^"]+)"\)')
_IPV6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
_UNIX = re.compile(r'sun_path="([^"]*)"')
_EXECVE = re.compile(r'execve\("([^"]+)", .*\) = 0')
NAME_SERVICE_SOCKETS = ("nscd", "systemd-resolve")


@dataclass(frozen=True, slots=True)
class Trace:
    connects: int  # connect() calls seen, loopback ones included
    attempts: list[str]  # the ones that went (or tried to go) off this machine, or looked up a name
    programs: list[str]  # programs it ran (successful execve), itself first


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address in {"::1", "::ffff:127.0.0.1"}


def _offending(family: str, fields: str) -> bool:
    if family == "AF_UNIX":
        path = _UNIX.search(fields)
        return path is not None and any(name in path.group(1) for name in NAME_SERVICE_SOCKETS)
    if family not in {"AF_INET", "AF_INET6"}:
        return False
    port = _PORT.search(fields)
    if port and port.group(1) == "53":
        return True  # a DNS query, even to a resolver on this machine
    address = _IPV4.search(fields) or _IPV6.search(fields)
    return address is None or not _loopback(address.group(1))


def parse(strace_output: str) -> Trace:
    """What an `strace -f -e trace=connect,execve` log says about network use."""
    connects = 0
    attempts: list[str] = []
    programs: list[str] = []
    for line in strace_output.splitlines():
        if executed := _EXECVE.search(line):
            programs.append(Path(executed.group(1)).name)
            continue
        if not (call := _CONNECT.search(line)):
            continue
        connects += 1
        if _offending(call.group(1), call.group(2)):
            attempts.append(line.split(" ", 1)[-1].strip()[:200])
    return Trace(connects, attempts, programs)


def available() -> bool:
    return shutil.which("strace") is not None


def _request(url: str, body: bytes, key: str) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        response.read()


def _stop_traced(server: Server) -> None:
    """SIGTERM to the traced program itself: strace, if signalled first, would leave it running
    detached."""
    for pid in process_tree(server.pid)[1:2]:  # strace's one child: the traced program
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        if server.process is not None:
            server.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    server.stop()


def check(
    server: Server, trace_path: Path, startup_seconds: float, chat: bytes, stream: bytes
) -> Trace:
    """Runs `server` (a LiteLLM not yet started) under strace, through one chat completion and
    one stream, and parses what it connected to."""
    server.command = [*TRACE, "-o", str(trace_path), *server.command]
    server.start()
    try:
        server.wait_until_healthy("/health/liveliness", startup_seconds)
        key = server.env["LITELLM_MASTER_KEY"]
        _request(server.url + "/v1/chat/completions", chat, key)
        _request(server.url + "/v1/chat/completions", stream, key)
    finally:
        _stop_traced(server)
    return parse(trace_path.read_text(errors="replace"))
