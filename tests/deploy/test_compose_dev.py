"""deploy/compose/dev.yml, the backing services of `make dev-up`: the stores and the mock engine
only, each healthchecked, published on 127.0.0.1 alone, with the same images as compose.yml and
the ports and passwords that scripts/dev.py writes into .env.dev.

Checked by hand like compose.yml (no Docker engine here); `scripts/check_deploy.sh` also runs
`docker compose config` on it where the compose plugin exists.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.conftest import DEPLOY, ROOT, yaml

COMPOSE = DEPLOY / "compose"
SERVICE_KEYS = {
    "image", "build", "command", "environment", "volumes", "ports", "healthcheck", "restart",
    "read_only", "tmpfs", "security_opt", "cap_drop",
}  # fmt: skip


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((COMPOSE / name).read_text())
    return document


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return _load("dev.yml")


@pytest.fixture(scope="module")
def services(dev: dict[str, Any]) -> dict[str, Any]:
    return dev["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _published(service: dict[str, Any]) -> dict[int, str]:
    """container port -> "host_ip:host_port", from the short syntax "ip:host:container"."""
    published = {}
    for entry in service.get("ports", []):
        host_ip, host_port, container_port = entry.split(":")
        published[int(container_port)] = f"{host_ip}:{host_port}"
    return published


def test_only_the_backing_services(dev: dict[str, Any], services: dict[str, Any]) -> None:
    # Its own project name: `make dev-down` never touches compose.yml's stack.
    assert dev["name"] == "ias-dev"
    assert set(services) == {"postgres", "redis", "rabbitmq", "mock-engine"}
    assert services["mock-engine"]["command"] == ["serve", "mock-engine"]
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)


def test_same_images_as_the_production_shaped_stack(services: dict[str, Any]) -> None:
    stack = _load("compose.yml")["services"]
    for name in ("postgres", "redis", "rabbitmq"):
        assert services[name]["image"] == stack[name]["image"], name
    # The mock engine runs from the one project image, built the same way.
    engine, reference = services["mock-engine"], stack["mock-engine"]
    assert engine["image"] == reference["image"]
    assert engine["build"] == reference["build"]
    dockerfile = (COMPOSE / engine["build"]["context"] / engine["build"]["dockerfile"]).resolve()
    assert dockerfile == ROOT / "deploy/docker/Dockerfile"
    assert engine["read_only"] is True
    assert engine["cap_drop"] == ["ALL"]


def test_everything_is_published_on_loopback_only(services: dict[str, Any]) -> None:
    for name, service in services.items():
        ports = service.get("ports", [])
        assert ports, name
        for entry in ports:
            assert entry.startswith("127.0.0.1:"), (name, entry)


def test_every_service_has_a_healthcheck_for_compose_up_wait(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_data_lives_on_named_volumes(dev: dict[str, Any], services: dict[str, Any]) -> None:
    # `make dev-down` keeps them; `make dev-down VOLUMES=1` (`down --volumes`) deletes them.
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "rabbitmq-data:/var/lib/rabbitmq" in services["rabbitmq"]["volumes"]
    assert set(dev["volumes"]) == {"postgres-data", "rabbitmq-data"}


def test_env_dev_names_the_ports_and_passwords_published_here(
    services: dict[str, Any], script: ModuleType
) -> None:
    loopback = "127.0.0.1"
    assert _published(services["postgres"])[5432] == f"{loopback}:{script.POSTGRES_PORT}"
    assert _published(services["redis"])[6379] == f"{loopback}:{script.REDIS_PORT}"
    assert _published(services["rabbitmq"])[5672] == f"{loopback}:{script.RABBITMQ_PORT}"
    assert _published(services["mock-engine"])[8000] == f"{loopback}:{script.ENGINE_PORT}"

    postgres = services["postgres"]["environment"]
    assert postgres["POSTGRES_USER"] == script.DEV_USER
    assert postgres["POSTGRES_PASSWORD"] == script.DEV_PASSWORD
    assert postgres["POSTGRES_DB"] == script.DEV_DATABASE
    rabbitmq = services["rabbitmq"]["environment"]
    assert rabbitmq["RABBITMQ_DEFAULT_USER"] == script.DEV_USER
    assert rabbitmq["RABBITMQ_DEFAULT_PASS"] == script.DEV_PASSWORD

    variables = script.dev_environment(dict.fromkeys(script.SECRETS, "x" * 48))
    assert variables["IAS_DATABASE_URL"].endswith(f"@127.0.0.1:{script.POSTGRES_PORT}/ias")
    assert variables["IAS_DEMO_BACKEND"] == f"http://127.0.0.1:{script.ENGINE_PORT}/v1"


def test_no_port_clashes_with_the_default_ports_or_the_stack(services: dict[str, Any]) -> None:
    # Beside `make services` (the default ports) and compose.yml (8000, 15672).
    taken = {5432, 6379, 5672, 8000, 15672, 25672}
    published = [int(entry.split(":")[1]) for s in services.values() for entry in s["ports"]]
    assert len(published) == len(set(published))
    assert not taken & set(published)
