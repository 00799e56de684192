"""The HTTP server below ASGI: a deadline for request headers, and several worker processes.

uvicorn closes idle keep-alive connections, but a client that opens a connection and then
sends its headers a byte at a time (slowloris), or nothing at all, would hold a socket for
ever. This protocol arms a timer when a connection opens and when each request begins, and
closes the connection if the headers are not complete in time. Body read deadlines are the
app's job (the router answers 408).

With several workers (uvicorn's supervisor, one listening socket), each worker is a fresh
interpreter that builds its own app. Metrics then go through prometheus_client's
multiprocess mode: every worker writes its values to files in one directory, made fresh for
each server start and named by `PROMETHEUS_MULTIPROC_DIR` before any worker imports
prometheus_client, and `/metrics` in any worker adds them all up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import multiprocess
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own switch
_METRICS_FILE = re.compile(r"_(\d+)\.db$")


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout_seconds = DEFAULT_HEADER_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        configured = getattr(self.config, "header_timeout_seconds", None)
        if configured is not None:
            self.header_timeout_seconds = configured

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(
            self.header_timeout_seconds, self._headers_too_slow
        )

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    return type(
        "HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_seconds": seconds}
    )


class ServerConfig(uvicorn.Config):
    """uvicorn's config with the header deadline on it: plain data, so worker processes
    (which receive the config pickled) keep the deadline too."""

    def __init__(self, app: Any, *, header_timeout_seconds: float, **options: Any) -> None:
        super().__init__(app, http=HeaderDeadlineProtocol, **options)
        self.header_timeout_seconds = header_timeout_seconds


def serve_workers(config: ServerConfig, sock: socket.socket) -> None:
    """Run `config.workers` worker processes on `sock`, restarting any that dies."""
    Multiprocess(config, sockets=[sock]).run()


@contextlib.contextmanager
def multiprocess_metrics() -> Iterator[Path]:
    """A fresh, empty metrics directory for the workers started inside this block."""
    directory = Path(tempfile.mkdtemp(prefix="ias-metrics-"))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(directory)  # inherited by every worker started from here
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def forget_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that died (their replacement is starting): a dead
    worker's spool or backend state must not linger in the sums. Its counters stay."""
    pids = {
        int(match.group(1))
        for path in directory.glob("*.db")
        if (match := _METRICS_FILE.search(path.name))
    }
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        except PermissionError:
            continue  # alive, under another user
