"""The request head's size cap in the server's protocol: 431 once a head passes
`max_header_bytes`, bodies never counted, and every request on a connection gets the whole cap.

The protocol is fed by hand through a stand-in transport, so each test decides exactly how
the bytes are split into reads (a head and a body in one read, a head a piece at a time).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
import uvicorn
from uvicorn.server import ServerState

from ias.server import HeaderDeadlineProtocol, ServerConfig, header_deadline_protocol

LIMIT = 1024
OK = b"HTTP/1.1 200 OK\r\n"
REFUSED = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"


class Transport(asyncio.Transport):
    """Collects what the server writes; `close` only marks it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name)

    def write(self, data: Any) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Echo:
    """The app: answers each request with the length of its body."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        length, more = 0, True
        while more:
            message = await receive()
            length += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(length).encode()
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Connection:
    def __init__(self, protocol: HeaderDeadlineProtocol, transport: Transport, app: Echo) -> None:
        self.protocol, self.transport, self.app = protocol, transport, app

    def feed(self, *reads: bytes) -> None:
        for data in reads:
            if not self.transport.closed:
                self.protocol.data_received(data)

    async def answers(self, count: int) -> list[bytes]:
        """The status lines and bodies of the first `count` responses, once written."""
        await _until(lambda: self.transport.written.count(b"HTTP/1.1 ") >= count)
        return [b"HTTP/1.1 " + r for r in bytes(self.transport.written).split(b"HTTP/1.1 ")[1:]]


async def _until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the server did not answer")


def _open(config: uvicorn.Config, app: Echo) -> Connection:
    protocol_class = config.http
    assert isinstance(protocol_class, type)
    protocol = protocol_class(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = Transport()
    protocol.connection_made(transport)
    return Connection(protocol, transport, app)


@pytest.fixture
async def connection() -> AsyncIterator[Connection]:
    app = Echo()
    protocol = header_deadline_protocol(10.0, max_header_bytes=LIMIT)
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_config=None)
    opened = _open(config, app)
    yield opened
    opened.protocol.connection_lost(None)


def head(size: int, body_length: int = 0) -> bytes:
    """A request head of exactly `size` bytes, padded by one header, announcing a body."""
    start = f"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {body_length}\r\nx-padding: ".encode()
    padding = size - len(start) - len(b"\r\n\r\n")
    assert padding >= 0
    return start + b"a" * padding + b"\r\n\r\n"


async def test_a_head_of_exactly_the_limit_is_served(connection: Connection) -> None:
    connection.feed(head(LIMIT))
    assert await connection.answers(1) == [OK + b"content-length: 1\r\n\r\n0"]
    assert not connection.transport.closed


async def test_a_head_one_byte_over_the_limit_gets_431_and_a_closed_connection(
    connection: Connection,
) -> None:
    connection.feed(head(LIMIT + 1))

    written = bytes(connection.transport.written)
    status_and_headers, body = written.split(b"\r\n\r\n", 1)
    assert written.startswith(REFUSED)
    assert b"content-type: application/json" in status_and_headers
    assert b"connection: close" in status_and_headers
    assert f"content-length: {len(body)}".encode() in status_and_headers
    error = orjson.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "request_header_fields_too_large"
    assert str(LIMIT) in error["message"]
    assert "IAS_SERVER__MAX_HEADER_BYTES" in error["message"]
    assert connection.transport.closed
    assert connection.app.calls == 0


async def test_a_head_sent_in_pieces_is_refused_as_soon_as_it_passes_the_limit(
    connection: Connection,
) -> None:
    piece = b"a" * 100
    connection.feed(b"GET / HTTP/1.1\r\nx-padding: ")
    pieces = 0
    while not connection.transport.closed and pieces < 1000:
        connection.feed(piece)
        pieces += 1

    assert bytes(connection.transport.written).startswith(REFUSED)
    assert pieces == LIMIT // len(piece)  # the piece that crossed the limit, not one later


async def test_a_body_in_the_same_read_as_its_head_is_not_counted(
    connection: Connection,
) -> None:
    body = b"b" * (10 * LIMIT)
    connection.feed(head(LIMIT, len(body)) + body)
    assert await connection.answers(1) == [OK + b"content-length: 5\r\n\r\n10240"]


async def test_a_body_sent_after_its_head_is_not_counted(connection: Connection) -> None:
    connection.feed(head(200, 20 * LIMIT), *[b"b" * LIMIT] * 20)
    assert await connection.answers(1) == [OK + b"content-length: 5\r\n\r\n20480"]


async def test_every_request_on_a_kept_alive_connection_gets_the_whole_limit(
    connection: Connection,
) -> None:
    for count in range(1, 4):
        connection.feed(head(LIMIT))
        assert len(await connection.answers(count)) == count
    assert set(await connection.answers(3)) == {OK + b"content-length: 1\r\n\r\n0"}
    assert not connection.transport.closed


async def test_a_later_request_over_the_limit_is_refused(connection: Connection) -> None:
    connection.feed(head(LIMIT, 3) + b"abc")
    await connection.answers(1)
    connection.feed(head(LIMIT + 1))

    first, second = await connection.answers(2)
    assert first.startswith(OK)
    assert second.startswith(REFUSED)
    assert connection.transport.closed


async def test_pipelined_requests_in_one_read_are_all_served(connection: Connection) -> None:
    # Together well over the limit; each head alone well under it.
    one = head(600, 500) + b"c" * 500
    connection.feed(one * 3)
    assert await connection.answers(3) == [OK + b"content-length: 3\r\n\r\n500"] * 3


async def test_the_server_config_hands_its_limit_to_every_connection() -> None:
    app = Echo()
    config = ServerConfig(
        app, header_timeout_seconds=10.0, max_header_bytes=2048, lifespan="off", log_config=None
    )
    opened = _open(config, app)
    try:
        assert opened.protocol.max_header_bytes == 2048
        opened.feed(head(2048))
        assert (await opened.answers(1))[0].startswith(OK)
    finally:
        opened.protocol.connection_lost(None)
