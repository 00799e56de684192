"""The endpoints every process serves, the request id, and the error envelope over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from ias.app import create_app
from ias.errors import RateLimited
from ias.secrets import resolve_secrets
from ias.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Settings:
    return resolve_secrets(Settings(home=tmp_path))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, "all")) as test_client:
        yield test_client


def test_health_is_ok_and_names_the_process(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "process": "all"}


def test_ready_checks_the_embedded_database(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_ready_is_503_and_names_an_unreachable_store(settings: Settings) -> None:
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(broken, "control")) as test_client:
        response = test_client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")


def test_mock_engine_needs_no_database(settings: Settings) -> None:
    with TestClient(create_app(settings, "mock-engine")) as test_client:
        assert test_client.get("/ready").json() == {"status": "ready", "checks": {}}


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert b"python_info" in response.content


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert first.startswith("req_")
    assert first != second


def test_a_plain_caller_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"x-request-id": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"


def test_an_unsafe_caller_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/health", headers={"x-request-id": "a" * 300})
    assert response.headers["x-request-id"].startswith("req_")


def test_unknown_path_is_a_404_envelope(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert response.headers["content-type"] == "application/json"


def test_wrong_method_keeps_its_status_in_the_envelope(client: TestClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"


def _app_raising(exc: Exception) -> Starlette:
    from ias.http_errors import UnhandledErrorMiddleware, install_error_handlers
    from ias.kit.requestid import RequestIdMiddleware

    async def boom(_: Request) -> Response:
        raise exc

    app = Starlette(routes=[Route("/boom", boom)])
    install_error_handlers(app)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app


def test_ias_error_keeps_status_and_headers() -> None:
    app = _app_raising(RateLimited("Too many requests.", headers={"retry-after": "3"}))
    response = TestClient(app).get("/boom")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_unexpected_error_is_a_500_envelope_naming_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _app_raising(RuntimeError("secret internals"))
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    body = orjson.loads(response.content)
    request_id = response.headers["x-request-id"]
    assert request_id in body["error"]["message"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "ias.errors"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None


class _Login(BaseModel):
    email: str


def test_a_body_that_is_not_json_names_no_field() -> None:
    from ias.http_errors import install_error_handlers

    api = FastAPI()

    @api.post("/login")
    async def login(body: _Login) -> dict[str, str]:
        return {"email": body.email}

    install_error_handlers(api)
    response = TestClient(api).post(
        "/login", content=b'{"email": "a@b.c",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert error["param"] is None
    assert "not valid JSON" in error["message"]
