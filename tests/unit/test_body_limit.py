"""Oversized request bodies are refused with 413 before they fill memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ias.body_limit import BodyLimitMiddleware
from ias.http_errors import install_error_handlers

LIMIT = 2048


async def echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"length": len(await request.body())})


@pytest.fixture
def client() -> Iterator[TestClient]:
    inner = Starlette(routes=[Route("/", echo_length, methods=["POST"])])
    install_error_handlers(inner)
    with TestClient(BodyLimitMiddleware(inner, LIMIT)) as test_client:
        yield test_client


def test_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post("/", content=b"x" * LIMIT)
    assert response.json() == {"length": LIMIT}


def test_declared_length_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert str(LIMIT) in response.json()["error"]["message"]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1024

    response = client.post("/", content=chunks())
    assert response.status_code == 413


def test_malformed_content_length_is_refused(client: TestClient) -> None:
    response = client.post("/", content=b"{}", headers={"content-length": "-5"})
    assert response.status_code in (400, 413)
