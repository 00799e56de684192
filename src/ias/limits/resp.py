"""A lean Redis client for the limiter's hot path: one connection, every command pipelined.

redis-py spends about 100 µs of CPU on each awaited command (pool checkout, locks, a reader per
call) — more than the router spends on the rest of a request. The limiter only needs to run a
script or set a key and to hear back within a time budget, so this client does that and no more:

- Commands issued during one turn of the event loop leave in one write (automatic pipelining),
  and replies are handed back in order, because Redis answers a connection's commands in the
  order it read them. Replies are parsed by hiredis, in C.
- One stall watchdog per connection instead of one timer per call: when the oldest command has
  waited longer than `timeout_seconds`, Redis is taken for stuck (paused, or the network gone),
  the connection is dropped and every command on it fails with `TimeoutError`. The next command
  connects again, so recovery needs no restart. A caller that gives up sooner just loses its
  reply; the replies of the others stay matched.
- Nothing is retried: a command that failed may or may not have run, and only the caller knows
  whether running it twice is safe.

URLs: `redis://[[user]:password@]host[:port][/db]`, `rediss://…` for TLS, and
`unix://[[user]:password@]/path/to/socket[?db=N]`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

DEFAULT_PORT = 6379
STALL_CONFIRM_SECONDS = 0.001


class ReplyError(Exception):
    """Redis answered the command with an error."""


class NoScriptError(ReplyError):
    """EVALSHA named a script the server does not have (it restarted, or flushed its cache)."""


@dataclass(frozen=True, slots=True)
class Address:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    path: str | None = None  # a unix socket instead of host and port
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False


def parse_url(url: str) -> Address:
    """The address in a Redis URL, or a ValueError naming what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://, got {url!r}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    query = parse_qs(parts.query)
    db_text = query.get("db", [""])[0]
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"a unix:// Redis URL needs a socket path, got {url!r}")
        path, host, port = parts.path, "", 0
    else:
        path = None
        host = parts.hostname or "127.0.0.1"
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ValueError(f"the port in the Redis URL {url!r} is not a number") from None
        db_text = parts.path.strip("/") or db_text
    if db_text and not db_text.isdigit():
        raise ValueError(f"the database in the Redis URL {url!r} must be a number")
    return Address(
        host=host,
        port=port,
        path=path,
        db=int(db_text or 0),
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


class _Connection(asyncio.Protocol):
    """One socket to Redis, the commands awaiting replies on it, and their deadlines."""

    def __init__(self, timeout_seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout_seconds
        self._reader = hiredis.Reader(replyError=ReplyError)
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._outgoing: list[bytes] = []
        self._watchdog: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport: uvloop's implements asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes) -> asyncio.Future[Any]:
        if self.closed:
            raise ConnectionError("the connection to Redis is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiting.append((future, self._loop.time() + self._timeout))
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(command)
        if self._watchdog is None:
            self._watchdog = self._loop.call_later(self._timeout, self._check_stall)
        return future

    def _flush(self) -> None:
        if self._outgoing and self._transport is not None and not self.closed:
            self._transport.write(b"".join(self._outgoing))
        self._outgoing.clear()

    def data_received(self, data: bytes) -> None:
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                future, _ = waiting.popleft()
                if future.done():  # its caller gave up; the reply is dropped
                    continue
                if isinstance(reply, ReplyError):
                    future.set_exception(_reply_error(reply))
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:
            self.abort(ConnectionError(f"Redis sent a reply that cannot be read: {exc}"))

    def _check_stall(self) -> None:
        self._watchdog = None
        if not self._waiting or self.closed:
            return
        oldest, deadline = self._waiting[0]
        if self._loop.time() < deadline:
            self._watchdog = self._loop.call_at(deadline, self._check_stall)
        else:
            # uvloop runs due timers before it reads sockets: after the loop was busy for longer
            # than the timeout, the reply may be sitting unread. Look once more after a poll.
            self._watchdog = self._loop.call_later(STALL_CONFIRM_SECONDS, self._confirm, oldest)

    def _confirm(self, suspect: asyncio.Future[Any]) -> None:
        self._watchdog = None
        if self.closed or not self._waiting:
            return
        if self._waiting[0][0] is suspect:
            self.abort(TimeoutError(f"Redis did not answer within {self._timeout:g} s"))
        else:
            self._check_stall()

    def abort(self, error: Exception) -> None:
        """Drop the connection and fail every command still waiting on it with `error`."""
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._transport is not None:
            self._transport.abort()
        waiting, self._waiting = self._waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(error)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.abort(ConnectionError(f"the connection to Redis was lost ({exc or 'closed'})"))


def _pack(args: tuple[str | int | bytes, ...]) -> bytes:
    # hiredis' type stub declares a one-element tuple; any number of arguments is accepted.
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed


def _reply_error(reply: ReplyError) -> ReplyError:
    message = str(reply)
    return NoScriptError(message) if message.startswith("NOSCRIPT") else reply


class PipelinedRedis:
    """Sends commands over one shared connection, opened on first use and after a failure."""

    def __init__(self, address: Address, *, timeout_seconds: float) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.address = address
        self._timeout = timeout_seconds
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float) -> PipelinedRedis:
        return cls(parse_url(url), timeout_seconds=timeout_seconds)

    async def execute(self, *args: str | int | bytes) -> Any:
        """Run one command; raises ReplyError, ConnectionError or TimeoutError."""
        connection = self._connection
        if connection is None or connection.closed:
            if self._closed:
                raise ConnectionError("the Redis client was closed")
            connection = await self._connect()
        return await connection.send(_pack(args))

    async def _connect(self) -> _Connection:
        # Every command that finds the connection down waits for one attempt, not one each.
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    def _connected(self, task: asyncio.Task[_Connection]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        address = self.address
        connection = _Connection(self._timeout)
        async with asyncio.timeout(self._timeout):
            if address.path is not None:
                await loop.create_unix_connection(lambda: connection, address.path)
            else:
                context = ssl.create_default_context() if address.tls else None
                await loop.create_connection(
                    lambda: connection, address.host, address.port, ssl=context
                )
        try:
            await self._handshake(connection)
        except BaseException:
            connection.abort(ConnectionError("the Redis handshake failed"))
            raise
        return connection

    async def _handshake(self, connection: _Connection) -> None:
        address = self.address
        replies = []
        if address.password is not None:
            credentials = (address.username or "default", address.password)
            replies.append(connection.send(_pack(("AUTH", *credentials))))
        if address.db:
            replies.append(connection.send(_pack(("SELECT", address.db))))
        # Wait for all: an unread failure would be logged as "never retrieved".
        for outcome in await asyncio.gather(*replies, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    async def aclose(self) -> None:
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.abort(ConnectionError("the Redis client was closed"))
            self._connection = None
