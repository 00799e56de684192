"""deploy/compose/compose.yml has the production shape: every process, healthchecks, start-up
order by conditions, the router's spool on a named volume, secrets only from the .env file.

Checked against the compose file format by hand (no Docker engine or compose plugin here);
`scripts/check_deploy.sh` also runs `docker compose config` where the plugin exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import DEPLOY, ROOT, yaml

COMPOSE = DEPLOY / "compose"
ONE_SHOT = {"migrate", "bootstrap"}
SECRETS = {
    "POSTGRES_PASSWORD",
    "RABBITMQ_PASSWORD",
    "IAS_JWT_SECRET",
    "IAS_API_KEY_SECRET",
    "IAS_ENCRYPTION_KEY",
    "IAS_ADMIN_PASSWORD",
}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "volumes", "ports", "healthcheck",
    "depends_on", "restart", "read_only", "tmpfs", "security_opt", "cap_drop",
    "stop_grace_period",
}  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((COMPOSE / "compose.yml").read_text())
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]  # type: ignore[no-any-return]


def test_the_stack_has_every_process(services: dict[str, Any]) -> None:
    assert set(services) == {
        "postgres", "redis", "rabbitmq", "migrate", "router", "control", "analytics",
        "mock-engine", "bootstrap", "gateway",
    }  # fmt: skip
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    commands = {name: services[name].get("command") for name in services}
    assert commands["router"][:2] == ["serve", "router"]
    assert commands["control"] == ["serve", "control"]
    assert commands["analytics"] == ["serve", "analytics"]
    assert commands["mock-engine"] == ["serve", "mock-engine"]
    assert commands["migrate"] == ["migrate"]


def test_only_known_service_keys(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)


def test_ias_services_build_the_one_image(services: dict[str, Any]) -> None:
    for name in ("migrate", "router", "control", "analytics", "mock-engine", "bootstrap"):
        build = services[name]["build"]
        dockerfile = (COMPOSE / build["context"] / build["dockerfile"]).resolve()
        assert dockerfile == ROOT / "deploy/docker/Dockerfile", name
        assert services[name]["read_only"] is True, name


def test_long_running_services_have_healthchecks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_start_order_waits_on_conditions(services: dict[str, Any]) -> None:
    conditions = {"service_healthy", "service_completed_successfully", "service_started"}
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            assert rule["condition"] in conditions, (name, dependency)
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == expected, (name, dependency)
    for name in ("router", "control", "analytics"):
        assert "migrate" in services[name]["depends_on"], name
    assert {"migrate", "control", "mock-engine"} <= set(services["bootstrap"]["depends_on"])


def test_the_router_spool_lives_on_a_named_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    router = services["router"]
    assert router["environment"]["IAS_ROUTER__SPOOL_DIR"] == "/var/lib/ias/spool"
    assert "router-spool:/var/lib/ias/spool" in router["volumes"]
    assert {"router-spool", "postgres-data"} <= set(compose["volumes"])


def test_production_mode_with_every_store(services: dict[str, Any]) -> None:
    environment = services["control"]["environment"]
    assert environment["IAS_MODE"] == "production"
    assert environment["IAS_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["IAS_REDIS_URL"].startswith("redis://redis:6379")
    assert environment["IAS_RABBITMQ_URL"].startswith("amqp://")


def test_secrets_come_only_from_the_env_file() -> None:
    text = (COMPOSE / "compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert required >= SECRETS
    # A secret never has a default value in the compose file.
    for name in SECRETS:
        assert not re.search(r"\$\{" + name + r":?-", text), name
    example = (COMPOSE / "env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert required <= defined


def test_mounted_files_exist(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (COMPOSE / source).is_file(), (name, source)


def test_the_gateway_routes_like_the_ingress() -> None:
    conf = (COMPOSE / "gateway.conf").read_text()
    assert re.search(r"location /v1/ \{\s*proxy_pass http://ias_router;", conf)
    assert re.search(r"location / \{\s*proxy_pass http://ias_control;", conf)
    assert "proxy_buffering off;" in conf


def test_bootstrap_registers_the_mock_engine(services: dict[str, Any]) -> None:
    environment = services["bootstrap"]["environment"]
    assert environment["IAS_DEMO_BACKEND"] == "http://mock-engine:8000/v1"
    script = Path(COMPOSE / "bootstrap.sh").read_text()
    assert "ias-admin bootstrap create-super-admin" in script
    assert "ias-admin model add" in script
