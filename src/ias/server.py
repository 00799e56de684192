"""The HTTP server below ASGI: a deadline and a size cap for request heads, and several workers.

uvicorn closes idle keep-alive connections, but a client that opens a connection and then
sends its headers a byte at a time (slowloris), or nothing at all, would hold a socket for
ever. This protocol arms a timer when a connection opens and when each request begins, and
closes the connection if the headers are not complete in time. Body read deadlines are the
app's job (the router and the control plane answer 408).

Neither uvicorn nor httptools caps the size of a request head: a header line of any length is
buffered (and copied as it grows) until it ends or the deadline strikes, so one connection
could cost a process hundreds of megabytes. This protocol counts the bytes of each request
head as they arrive and answers 431 once they pass `max_header_bytes`. Bodies are not counted:
once a head is complete, data goes straight to the parser.

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
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from ias.errors import InvalidRequest

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
HEADER_FIELDS_TOO_LARGE = 431
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own switch
_METRICS_FILE = re.compile(r"_(\d+)\.db$")


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout_seconds = DEFAULT_HEADER_TIMEOUT_SECONDS
    max_header_bytes = DEFAULT_MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        # Bytes of the request head read so far; None while a body is being read, when
        # nothing is counted.
        self._head_bytes: int | None = 0
        self._heads_completed = 0
        for name in ("header_timeout_seconds", "max_header_bytes"):
            configured = getattr(self.config, name, None)
            if configured is not None:
                setattr(self, name, configured)

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

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is None:  # a body: the hot path pays for this one check
            super().data_received(data)
            return
        room = self.max_header_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # More than the head may still take. Feed what fits: if the head ends within it, the
        # rest is a body (or the next request) and goes on as usual; if not, the head is over
        # the cap. Splitting keeps the cap exact when a head and a body share one read.
        view, heads = memoryview(data), self._heads_completed
        if room > 0:
            self._head_bytes += room
            super().data_received(view[:room])  # type: ignore[arg-type]
        if self._heads_completed == heads:
            self._refuse_oversized_head()
        elif self._still_reading():
            self.data_received(view[room:])  # type: ignore[arg-type]

    def _still_reading(self) -> bool:
        """Whether the parser wants more: not after an error answer, an upgrade or a close."""
        parser = self.parser
        return (
            parser is not None and not parser.should_upgrade() and not self.transport.is_closing()
        )

    def _refuse_oversized_head(self) -> None:
        self._disarm()
        self._head_bytes = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            # Only between responses: a pipelined request must not cut into one being sent.
            self.transport.write(self._oversized_head_response())
        self.transport.close()

    def _oversized_head_response(self) -> bytes:
        error = InvalidRequest(
            f"The request line and headers are larger than the {self.max_header_bytes} bytes "
            "this server accepts (IAS_SERVER__MAX_HEADER_BYTES).",
            code="request_header_fields_too_large",
        )
        body = error.body()
        head = [STATUS_LINE[HEADER_FIELDS_TOO_LARGE]]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        return b"".join(head) + body

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_bytes = None
        self._heads_completed += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # Whatever arrives next is the head of the next request on this connection. (A
        # pipelined head that began in the read just parsed is counted from the next read:
        # it may pass the cap by at most that one read, which bounds memory all the same.)
        self._head_bytes = 0
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def header_deadline_protocol(
    seconds: float, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
) -> type[HeaderDeadlineProtocol]:
    return type(
        "HeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout_seconds": seconds, "max_header_bytes": max_header_bytes},
    )


class ServerConfig(uvicorn.Config):
    """uvicorn's config with the header deadline and cap on it: plain data, so worker
    processes (which receive the config pickled) keep them too."""

    def __init__(
        self, app: Any, *, header_timeout_seconds: float, max_header_bytes: int, **options: Any
    ) -> None:
        super().__init__(app, http=HeaderDeadlineProtocol, **options)
        self.header_timeout_seconds = header_timeout_seconds
        self.max_header_bytes = max_header_bytes


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
