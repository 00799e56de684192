"""Bad input on /v1: every mistake is an OpenAI-shaped 4xx (or, for a client too slow to send
its headers, a closed connection), and the router keeps serving everyone else meanwhile."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest

from ias.app import create_app
from ias.engine import create_engine_app
from tests.integration.router.conftest import (
    CHAT_MODEL,
    Tenant,
    engine_config,
    router_settings,
    seed,
)
from tests.servers import ServerThread

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
MAX_BODY = 64 * 1024
SLOW = 0.5


@pytest.fixture(scope="module")
def guarded(
    router_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerThread, Tenant]]:
    settings = router_settings(
        router_database,
        tmp_path_factory.mktemp("guarded"),
        f"bad-{uuid.uuid4().hex[:8]}:",
        max_body_bytes=MAX_BODY,
        body_read_seconds=SLOW,
    )
    with ServerThread(create_engine_app(engine_config())) as engine:
        tenant = asyncio.run(seed(router_database, settings.secret("api_key_secret"), engine.url))
        with ServerThread(create_app(settings, "router"), header_timeout=SLOW) as router:
            yield router, tenant


def _post(router: ServerThread, tenant: Tenant, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{router.url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {tenant.key}", "content-type": "application/json"},
    )


def _chat(**fields: object) -> bytes:
    body: dict[str, object] = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    body.update(fields)
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        (_chat(model=...), 400, "model"),
        (_chat(model=5), 400, "model"),
        (_chat(stream="yes"), 400, "stream"),
        (_chat(n=0), 400, "n"),
        (_chat(n=500), 400, "n"),
        (_chat(max_tokens=-1), 400, "max_tokens"),
        (_chat(max_tokens="lots"), 400, "max_tokens"),
        (_chat(max_tokens=10**6), 400, "max_tokens"),
        (_chat(stream_options={"include_usage": True}), 400, "stream_options"),
        (_chat(api_base="http://169.254.169.254/"), 400, "api_base"),
        (_chat(model="not-a-model"), 404, "model"),
        (b'{"model":"chat-model","a":' + b"[" * 600 + b"]" * 600 + b"}", 400, None),
    ],
    ids=[
        "invalid-json",
        "not-an-object",
        "missing-model",
        "model-not-string",
        "stream-not-bool",
        "n-zero",
        "n-too-big",
        "negative-max-tokens",
        "max-tokens-not-int",
        "max-tokens-over-context",
        "stream-options-without-stream",
        "ssrf-api-base",
        "unknown-model",
        "deeply-nested",
    ],
)
def test_bad_bodies_get_openai_errors(
    guarded: tuple[ServerThread, Tenant], body: bytes, status: int, param: str | None
) -> None:
    router, tenant = guarded
    response = _post(router, tenant, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert response.headers["x-request-id"]


def test_oversized_body_is_413(guarded: tuple[ServerThread, Tenant]) -> None:
    router, tenant = guarded
    response = _post(router, tenant, _chat(padding="x" * (MAX_BODY + 1)))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_wrong_method_and_unknown_path(guarded: tuple[ServerThread, Tenant]) -> None:
    router, tenant = guarded
    headers = {"authorization": f"Bearer {tenant.key}"}
    assert httpx.get(f"{router.url}/v1/chat/completions", headers=headers).status_code == 405
    unknown = httpx.get(f"{router.url}/v1/nothing-here", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found_error"


def _raw(router: ServerThread) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", router.port), timeout=5)
    sock.settimeout(5)
    return sock


def _read_response(sock: socket.socket) -> bytes:
    """A whole chunked response: head and body may arrive in separate segments."""
    answer = b""
    while not answer.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def test_a_body_that_arrives_too_slowly_gets_408_and_others_are_served(
    guarded: tuple[ServerThread, Tenant],
) -> None:
    router, tenant = guarded
    with _raw(router) as slow:
        head = (
            f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
            f"authorization: Bearer {tenant.key}\r\ncontent-type: application/json\r\n"
            "content-length: 500\r\n\r\n{"
        )
        slow.sendall(head.encode())
        started = time.monotonic()
        assert _post(router, tenant, _chat(max_tokens=2)).status_code == 200
        assert time.monotonic() - started < SLOW, "a slow client held up someone else"
        answer = _read_response(slow)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"request_timeout" in answer


def test_headers_that_arrive_too_slowly_get_the_connection_closed(
    guarded: tuple[ServerThread, Tenant],
) -> None:
    router, _ = guarded
    with _raw(router) as slow:
        slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        started = time.monotonic()
        assert slow.recv(4096) == b""  # closed without an answer
        assert SLOW * 0.8 < time.monotonic() - started < SLOW * 6


def test_a_silent_connection_is_closed_too(guarded: tuple[ServerThread, Tenant]) -> None:
    router, _ = guarded
    with _raw(router) as silent:
        assert silent.recv(4096) == b""
