"""`/ready` against the real production stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ias.app import create_app
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.conftest import RABBITMQ_URL, REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]


@pytest.mark.parametrize(
    ("process", "expected"),
    [
        ("all", {"database", "redis", "rabbitmq"}),
        ("router", {"database", "redis", "rabbitmq"}),
        ("control", {"database", "redis"}),
        ("analytics", {"database", "rabbitmq"}),
        ("mock-engine", set()),
    ],
)
def test_every_process_is_ready_on_the_production_stores(
    process: str, expected: set[str], postgres_url: str, tmp_path: Path, clean_env: object
) -> None:
    settings = resolve_secrets(
        Settings(
            home=tmp_path, database_url=postgres_url, redis_url=REDIS_URL, rabbitmq_url=RABBITMQ_URL
        )
    )
    with TestClient(create_app(settings, process)) as client:
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == dict.fromkeys(expected, "ok")


def test_unreachable_broker_and_database_make_the_router_unready(
    tmp_path: Path, clean_env: object
) -> None:
    settings = resolve_secrets(
        Settings(
            home=tmp_path,
            database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
            redis_url=REDIS_URL,
            rabbitmq_url="amqp://guest:guest@127.0.0.1:1/",
        )
    )
    with TestClient(create_app(settings, "router")) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"] == "ok"
    assert checks["database"].startswith("unreachable")
    assert checks["rabbitmq"].startswith("unreachable")
