"""scripts/dev.py, behind `make dev-up`, `make dev` and `make dev-down`: the .env.dev it writes,
its refusal without Docker, the supervisor that stops every process, and the gateway that sends
/v1 to the router and the rest to the control plane.

Nothing here starts a container: there is no Docker engine on CI's machine.
"""

from __future__ import annotations

import importlib.util
import io
import os
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ias.settings import Mode, Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "dev.py"


@pytest.fixture(scope="module")
def dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _secrets(dev: ModuleType) -> dict[str, str]:
    return {name: f"{name.lower()}-{'s' * 40}" for name in dev.SECRETS}


# --- .env.dev ------------------------------------------------------------------------------


def test_env_file_exports_production_settings_for_the_dev_services(
    dev: ModuleType, tmp_path: Path
) -> None:
    text = dev.render_env(dev.dev_environment(_secrets(dev), home=tmp_path / "home"))
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(line.startswith("export IAS_") for line in lines), lines
    values = dev.parse_env(text)
    assert values["IAS_MODE"] == "production"
    assert values["IAS_HOME"] == str(tmp_path / "home")
    assert values["IAS_DATABASE_URL"] == "postgresql+asyncpg://ias:ias-dev@127.0.0.1:15432/ias"
    assert values["IAS_REDIS_URL"] == "redis://127.0.0.1:16379/0"
    assert values["IAS_RABBITMQ_URL"] == "amqp://ias:ias-dev@127.0.0.1:16672/"
    assert values["IAS_JWT_SECRET"] == _secrets(dev)["IAS_JWT_SECRET"]
    assert values["IAS_DEMO_BACKEND"] == "http://127.0.0.1:18000/v1"
    assert values["IAS_ADMIN_EMAIL"] == "admin@example.com"


def test_the_processes_accept_what_the_env_file_says(
    dev: ModuleType, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = dev.parse_env(dev.render_env(dev.dev_environment(_secrets(dev), home=tmp_path)))
    for name, value in values.items():
        clean_env.setenv(name, value)
    settings = Settings()
    assert settings.mode is Mode.PRODUCTION
    assert settings.database_url == values["IAS_DATABASE_URL"]
    assert settings.rabbitmq_url == values["IAS_RABBITMQ_URL"]
    assert settings.secret("encryption_key") == values["IAS_ENCRYPTION_KEY"]
    assert settings.control.public_url == "http://127.0.0.1:5173"


def test_the_env_file_reads_back_in_a_shell(dev: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / ".env.dev"
    dev.write_env_file(path, dev.render_env(dev.dev_environment(_secrets(dev), home=tmp_path)))
    shown = subprocess.run(
        ["bash", "-c", f'source "{path}" && printf %s "$IAS_DATABASE_URL|$IAS_API_KEY_SECRET"'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert shown == (
        "postgresql+asyncpg://ias:ias-dev@127.0.0.1:15432/ias|"
        + _secrets(dev)["IAS_API_KEY_SECRET"]
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secrets_survive_a_new_dev_up_and_bad_ones_are_replaced(dev: ModuleType) -> None:
    earlier = _secrets(dev) | {"IAS_ENCRYPTION_KEY": "short", "OTHER": "x"}
    del earlier["IAS_ADMIN_PASSWORD"]
    kept = dev.keep_secrets(earlier)
    assert set(kept) == set(dev.SECRETS)
    assert kept["IAS_JWT_SECRET"] == earlier["IAS_JWT_SECRET"]
    assert kept["IAS_API_KEY_SECRET"] == earlier["IAS_API_KEY_SECRET"]
    assert len(kept["IAS_ENCRYPTION_KEY"]) >= 32
    assert kept["IAS_ENCRYPTION_KEY"] != "short"
    assert len(kept["IAS_ADMIN_PASSWORD"]) >= 32
    fresh = dev.keep_secrets({})
    assert len(set(fresh.values())) == len(dev.SECRETS)


def test_parse_env_takes_plain_and_exported_lines(dev: ModuleType) -> None:
    text = "# comment\n\nexport A=1\nB='two words'\nC=\"x\" # trailing\nnot a line\n"
    assert dev.parse_env(text) == {"A": "1", "B": "two words", "C": "x"}


# --- without Docker --------------------------------------------------------------------------


def _fake_docker(directory: Path, script: str) -> None:
    docker = directory / "docker"
    docker.write_text(f"#!/bin/sh\n{script}\n")
    docker.chmod(0o755)


@pytest.mark.parametrize(
    ("docker", "says"),
    [
        (None, "there is no `docker` command here"),
        ('[ "$1" = compose ] && exit 1; exit 0', "the compose plugin is missing"),
        ('[ "$1" = info ] && exit 1; exit 0', "the Docker daemon does not answer"),
    ],
)
@pytest.mark.parametrize("command", ["up", "down"])
def test_without_docker_it_says_so_and_points_to_make_services(
    tmp_path: Path, docker: str | None, says: str, command: str
) -> None:
    if docker is not None:
        _fake_docker(tmp_path, docker)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), command],
        capture_output=True,
        text=True,
        env={"PATH": str(tmp_path)},  # this directory only: no real docker is ever run
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"make dev-{command} needs Docker and its compose plugin" in done.stderr
    assert says in done.stderr
    assert "`make services`" in done.stderr
    assert not (tmp_path / ".env.dev").exists()


def test_make_dev_without_services_says_to_run_dev_up(
    dev: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IAS_")}
    assert dev.run(env_file=tmp_path / ".env.dev", environ=environ) == 1
    assert "run `make dev-up` first" in capsys.readouterr().err


# --- the supervisor --------------------------------------------------------------------------


def test_one_process_ending_stops_all_the_others(dev: ModuleType, tmp_path: Path) -> None:
    out = io.StringIO()
    supervisor = dev.Supervisor({"PATH": os.environ["PATH"]}, out=out)
    # A child of the long-running one: stopping must reach the whole process group.
    supervisor.add("long", ["sh", "-c", f"sleep 60 & echo $! > {tmp_path / 'pid'}; wait"])
    supervisor.add("short", ["sh", "-c", "echo hello; sleep 0.5; exit 3"])
    started = time.monotonic()
    assert supervisor.run(poll_seconds=0.05) == 3
    assert time.monotonic() - started < 15
    assert "short | hello\n" in out.getvalue()
    assert "short | exited with code 3: stopping everything" in out.getvalue()
    for child in supervisor.children:
        assert child.process.poll() is not None
    grandchild = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_a_clean_exit_still_counts_as_a_failure(dev: ModuleType) -> None:
    supervisor = dev.Supervisor({"PATH": os.environ["PATH"]}, out=io.StringIO())
    supervisor.add("quits", ["true"])
    assert supervisor.run(poll_seconds=0.05) == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its parent counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


# --- the gateway ---------------------------------------------------------------------------


async def _upstream(name: str) -> TestServer:
    async def answer(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        response = web.StreamResponse(headers={"X-Upstream": name})
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        await response.prepare(request)
        for part in (f"{name} {request.method} {request.path_qs} ", body.decode(), " done"):
            await response.write(part.encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app)
    await server.start_server()
    return server


@pytest.fixture
async def gateway(dev: ModuleType) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    control, router = await _upstream("control"), await _upstream("router")
    app = dev.gateway_app(
        str(control.make_url("")).rstrip("/"), str(router.make_url("")).rstrip("/")
    )
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await control.close()
        await router.close()


async def test_the_gateway_sends_v1_to_the_router_and_the_rest_to_control(
    gateway: TestClient[web.Request, web.Application],
) -> None:
    chat = await gateway.post("/v1/chat/completions?x=1", data=b'{"model": "m"}')
    assert chat.status == 200
    assert await chat.text() == 'router POST /v1/chat/completions?x=1 {"model": "m"} done'
    assert chat.headers["X-Upstream"] == "router"
    assert chat.headers.getall("Set-Cookie") == ["a=1", "b=2"]

    api = await gateway.get("/api/v1/me")
    assert await api.text() == "control GET /api/v1/me  done"
    page = await gateway.get("/orgs/1/playground")
    assert page.headers["X-Upstream"] == "control"


async def test_the_gateway_answers_502_when_an_upstream_is_down(dev: ModuleType) -> None:
    app = dev.gateway_app("http://127.0.0.1:9", "http://127.0.0.1:9")
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/health")
        assert response.status == 502
        assert "did not answer" in await response.text()
