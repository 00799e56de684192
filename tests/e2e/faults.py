"""A TCP fault proxy: what a test puts between a process and a service to break the network.

Every connection a process opens to PostgreSQL, Redis, RabbitMQ or an engine in the end-to-end
stack goes through one of these, so a test can make that link

- `latency(s)`: every chunk waits `s` seconds before it is passed on (both directions);
- `reset()`: every open connection is aborted with a TCP reset and new ones are reset as soon
  as they are accepted — what a client sees of a stopped server or a dead host's kernel;
- `blackhole()`: nothing moves any more on open connections, and new ones are accepted but
  never reach the service — a hung server, or a network that drops packets. Bytes already sent
  wait in the socket buffers, as TCP would keep retransmitting them, and flow again on `heal()`;
- `heal()`: back to a clean link.

The proxy runs on its own event loop in a daemon thread, so it keeps moving bytes while a test
blocks (running a CLI, sleeping, waiting on a subprocess). It counts connections and bytes, which
is how a test proves that something did *not* talk to a service.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from tests.servers import free_port

T = TypeVar("T")
CHUNK = 65536


@dataclass
class Traffic:
    connections: int = 0
    bytes_up: int = 0  # client → service
    bytes_down: int = 0  # service → client


class FaultProxy:
    def __init__(self, name: str, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.name = name
        self.port = free_port()
        self.upstream = (upstream_host, upstream_port)
        self.traffic = Traffic()
        self._delay = 0.0
        self._resetting = False
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()  # cleared while blackholed
        self._sockets: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._run, name=f"fault-{name}", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- faults, called from the test's thread -------------------------------------------------

    def latency(self, seconds: float) -> None:
        self._call(self._set(delay=seconds))

    def reset(self) -> None:
        self._call(self._set(resetting=True))

    def blackhole(self) -> None:
        self._call(self._set(flowing=False))

    def heal(self) -> None:
        self._call(self._set(delay=0.0, resetting=False, flowing=True))

    def snapshot(self) -> Traffic:
        return Traffic(**vars(self.traffic))

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._flowing.set()
        self._loop.run_forever()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._sockets):
            _abort(writer)

    async def _set(
        self,
        *,
        delay: float | None = None,
        resetting: bool | None = None,
        flowing: bool | None = None,
    ) -> None:
        if delay is not None:
            self._delay = delay
        if resetting is not None:
            self._resetting = resetting
            if resetting:
                for writer in list(self._sockets):
                    _abort(writer)
        if flowing is True:
            self._flowing.set()
        elif flowing is False:
            self._flowing.clear()

    # --- relaying -------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.traffic.connections += 1
        if self._resetting:
            _abort(writer)
            return
        self._sockets.add(writer)
        try:
            await self._flowing.wait()  # a blackholed link accepts, then never connects onward
            if self._resetting:
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                _abort(writer)  # the service itself is down: the client sees a reset
                return
            self._sockets.add(up_writer)
            await asyncio.gather(
                self._pipe(reader, up_writer, upstream=True),
                self._pipe(up_reader, writer, upstream=False),
            )
            up_writer.close()
            self._sockets.discard(up_writer)
        finally:
            writer.close()
            self._sockets.discard(writer)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        """One direction. Its end (EOF) is passed on as a half-close, as TCP would: the other
        direction keeps flowing until its own end. A reset, or a fault, ends both at once."""
        try:
            while data := await reader.read(CHUNK):
                if self._delay:
                    await asyncio.sleep(self._delay)
                await self._flowing.wait()
                if self._resetting:
                    raise ConnectionResetError
                if upstream:
                    self.traffic.bytes_up += len(data)
                else:
                    self.traffic.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            _abort(writer)
            self._sockets.discard(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), not a polite FIN: the peer learns at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
