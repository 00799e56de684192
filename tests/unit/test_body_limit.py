"""Request bodies are refused with 413 before they fill memory, and with 408 when they arrive
too slowly; the app only ever sees a whole body within both."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from ias.body_limit import BodyLimitMiddleware, ClientGone, read_body
from ias.errors import PayloadTooLarge, RequestTimeout
from ias.http_errors import install_error_handlers

LIMIT = 2048
READ_SECONDS = 0.2
PATIENCE = 5.0  # far beyond READ_SECONDS: a middleware without a deadline fails, not hangs


async def echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"length": len(await request.body())})


class Named(BaseModel):
    name: str


def _fastapi_app() -> FastAPI:
    """FastAPI parses the body itself, and makes any error raised while reading it a 400."""
    api = FastAPI()
    install_error_handlers(api)

    @api.post("/")
    async def create(item: Named) -> dict[str, int]:
        return {"length": len(item.name)}

    return api


@pytest.fixture
def client() -> Iterator[TestClient]:
    inner = Starlette(routes=[Route("/", echo_length, methods=["POST"])])
    install_error_handlers(inner)
    with TestClient(BodyLimitMiddleware(inner, LIMIT, READ_SECONDS)) as test_client:
        yield test_client


@pytest.fixture
def fastapi_client() -> Iterator[TestClient]:
    with TestClient(BodyLimitMiddleware(_fastapi_app(), LIMIT, READ_SECONDS)) as test_client:
        yield test_client


def _chunks(count: int, size: int = 1024) -> Iterator[bytes]:
    for _ in range(count):
        yield b"y" * size


def test_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post("/", content=b"x" * LIMIT)
    assert response.json() == {"length": LIMIT}


def test_chunked_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post("/", content=_chunks(2))
    assert response.json() == {"length": LIMIT}


def test_declared_length_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert str(LIMIT) in response.json()["error"]["message"]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/", content=_chunks(10))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_body_over_the_limit_is_413_in_front_of_fastapi(
    fastapi_client: TestClient,
) -> None:
    # FastAPI's body parsing would turn a PayloadTooLarge raised while it reads into a 400.
    response = fastapi_client.post(
        "/", content=_chunks(10), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == {
        "message": f"Request body is larger than the {LIMIT} bytes this API accepts.",
        "type": "invalid_request_error",
        "param": None,
        "code": "payload_too_large",
    }
    assert response.headers["connection"] == "close"


def test_fastapi_still_parses_a_body_within_the_limit(fastapi_client: TestClient) -> None:
    response = fastapi_client.post("/", json={"name": "abc"})
    assert response.json() == {"length": 3}


def test_malformed_content_length_is_refused(client: TestClient) -> None:
    response = client.post("/", content=b"{}", headers={"content-length": "-5"})
    assert response.status_code in (400, 413)


# --- the read deadline, driven by hand: a client that sends part of a body and stalls -------


class Recorder:
    """The inner app: records whether it was called and what body it read."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.bodies.append(await read_body(receive, 10**9, PATIENCE))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers or []}


def _client_sending(*messages: Message) -> Receive:
    """A `receive` that hands out `messages`, then waits for ever (a stalled client)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


async def _run(middleware: BodyLimitMiddleware, receive: Receive) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(middleware(_scope(), receive, send), PATIENCE)
    return sent


def _envelope(sent: list[Message]) -> dict[str, Any]:
    error: dict[str, Any] = orjson.loads(sent[1]["body"])["error"]
    return error


async def test_a_body_that_stalls_gets_408_after_the_read_deadline() -> None:
    inner = Recorder()
    receive = _client_sending({"type": "http.request", "body": b'{"na', "more_body": True})
    started = asyncio.get_running_loop().time()
    sent = await _run(BodyLimitMiddleware(inner, LIMIT, READ_SECONDS), receive)
    took = asyncio.get_running_loop().time() - started

    assert READ_SECONDS <= took < READ_SECONDS + 1.0
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert _envelope(sent)["code"] == "request_timeout"
    assert _envelope(sent)["type"] == "invalid_request_error"
    assert inner.bodies == []  # the app never saw the request


async def test_a_body_trickled_past_the_deadline_gets_408() -> None:
    # Each piece arrives in time for the one before: the deadline is for the whole body.
    async def trickle() -> Message:
        await asyncio.sleep(READ_SECONDS / 4)
        return {"type": "http.request", "body": b"a", "more_body": True}

    sent = await _run(BodyLimitMiddleware(Recorder(), LIMIT, READ_SECONDS), trickle)
    assert sent[0]["status"] == 408


async def test_a_client_gone_mid_body_gets_no_answer() -> None:
    inner = Recorder()
    receive = _client_sending(
        {"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}
    )
    assert await _run(BodyLimitMiddleware(inner, LIMIT, READ_SECONDS), receive) == []
    assert inner.bodies == []


async def test_the_app_gets_the_whole_body_then_the_clients_messages() -> None:
    seen: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([await receive(), await receive()])

    receive = _client_sending(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
        {"type": "http.disconnect"},
    )
    assert await _run(BodyLimitMiddleware(inner, LIMIT, READ_SECONDS), receive) == []
    assert seen == [
        {"type": "http.request", "body": b"abcd", "more_body": False},
        {"type": "http.disconnect"},
    ]


async def test_a_declared_length_over_the_limit_is_refused_without_reading() -> None:
    async def receive() -> Message:
        raise AssertionError("the body was read")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = BodyLimitMiddleware(Recorder(), LIMIT, READ_SECONDS)
    await middleware(_scope([(b"content-length", str(LIMIT + 1).encode())]), receive, send)
    assert sent[0]["status"] == 413


# --- read_body on its own ------------------------------------------------------------------


async def test_read_body_joins_the_pieces() -> None:
    receive = _client_sending(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"c"},
    )
    assert await read_body(receive, 3, PATIENCE) == b"abc"


async def test_read_body_refuses_one_byte_over_the_limit() -> None:
    receive = _client_sending({"type": "http.request", "body": b"abcd", "more_body": True})
    with pytest.raises(PayloadTooLarge):
        await read_body(receive, 3, PATIENCE)


async def test_read_body_times_out() -> None:
    with pytest.raises(RequestTimeout, match=r"0\.05 seconds"):
        await read_body(_client_sending(), LIMIT, 0.05)


async def test_read_body_notices_a_client_gone() -> None:
    with pytest.raises(ClientGone):
        await read_body(_client_sending({"type": "http.disconnect"}), LIMIT, PATIENCE)


@pytest.mark.parametrize("declared", ["4", "-5", "1e3"])
async def test_read_body_refuses_a_declared_length_it_cannot_take_before_reading(
    declared: str,
) -> None:
    async def receive() -> Message:
        raise AssertionError("the body was read")

    with pytest.raises(PayloadTooLarge):
        await read_body(receive, 3, PATIENCE, declared)


async def test_read_body_takes_a_declared_length_within_the_limit() -> None:
    receive = _client_sending({"type": "http.request", "body": b"abc"})
    assert await read_body(receive, 3, PATIENCE, "3") == b"abc"
