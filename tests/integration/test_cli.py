"""The `ias` and `ias-admin` console scripts, run as a person would run them.

Every bad input a person can give ends with exit code 1 and one `error:` line on stderr that
names the problem — never a traceback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
IAS = BIN / "ias"
IAS_ADMIN = BIN / "ias-admin"
PASSWORD = "violet-harbour-47-tangent"
STARTUP_SECONDS = 30.0
# uvicorn shuts down gracefully on SIGTERM, then re-raises it so the exit status says so.
STOPPED = (0, -signal.SIGTERM)


def _env(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    env.update(variables)
    return env


def _run(script: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args],
        env=_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _create_admin(home: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return _run(
        IAS_ADMIN, "bootstrap", "create-super-admin", *args, IAS_HOME=str(home), **variables
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.returncode == 1
    return lines[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _users(home: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(home / "ias.db") as connection:
        return connection.execute("SELECT email, is_super_admin FROM users").fetchall()


@pytest.fixture
def blocked_home(tmp_path: Path) -> Path:
    """An IAS_HOME nobody can create, even root: its parent is a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker / "home"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


# --- ias-admin bootstrap create-super-admin -----------------------------------------------


def test_create_super_admin_on_an_empty_home_then_again(ias_home: Path) -> None:
    first = _create_admin(ias_home, "--email", "Ada@Example.com", "--password", PASSWORD)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "created super admin ada@example.com"
    assert _users(ias_home) == [("ada@example.com", 1)]

    again = _create_admin(ias_home, "--email", "ada@example.com", "--password", PASSWORD)

    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
    assert _users(ias_home) == [("ada@example.com", 1)]


def test_create_super_admin_reads_the_password_from_the_environment(ias_home: Path) -> None:
    result = _create_admin(ias_home, "--email", "ada@example.com", IAS_ADMIN_PASSWORD=PASSWORD)

    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short-pw-1", "at least 12 characters"), ("password1234", "too common")],
)
def test_weak_password_is_one_line(ias_home: Path, password: str, reason: str) -> None:
    result = _create_admin(ias_home, "--email", "ada@example.com", "--password", password)

    _assert_one_line_error(result, reason)
    assert not ias_home.exists()


def test_unreachable_database_is_named_without_its_password(ias_home: Path) -> None:
    url = "postgresql+asyncpg://postgres:hunter2-not-shown@127.0.0.1:1/ias"

    result = _create_admin(
        ias_home, "--email", "ada@example.com", "--password", PASSWORD, IAS_DATABASE_URL=url
    )

    line = _assert_one_line_error(result, "127.0.0.1:1", "not reachable")
    assert "hunter2" not in line


def test_unwritable_home_is_one_line(blocked_home: Path) -> None:
    result = _create_admin(blocked_home, "--email", "ada@example.com", "--password", PASSWORD)

    _assert_one_line_error(result, f"IAS_HOME {blocked_home} is not writable")


def test_invalid_environment_value_is_one_line(ias_home: Path) -> None:
    result = _create_admin(
        ias_home,
        "--email",
        "ada@example.com",
        "--password",
        PASSWORD,
        IAS_DATABASE_URL="mysql://root@127.0.0.1/ias",
    )

    _assert_one_line_error(result, "IAS_DATABASE_URL")


# --- ias migrate ----------------------------------------------------------------------------


def test_migrate_creates_the_embedded_database_and_goes_back(ias_home: Path) -> None:
    up = _run(IAS, "migrate", IAS_HOME=str(ias_home))

    assert up.returncode == 0, up.stderr
    assert "is at revision" in up.stdout
    assert "users" in {name for (name,) in _tables(ias_home)}

    down = _run(IAS, "migrate", "--downgrade", "base", IAS_HOME=str(ias_home))

    assert down.returncode == 0, down.stderr
    assert "base" in down.stdout
    assert "users" not in {name for (name,) in _tables(ias_home)}


def _tables(home: Path) -> list[tuple[str]]:
    with sqlite3.connect(home / "ias.db") as connection:
        return connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()


def test_migrate_to_an_unknown_revision_is_one_line(ias_home: Path) -> None:
    result = _run(IAS, "migrate", "--revision", "nope", IAS_HOME=str(ias_home))

    _assert_one_line_error(result, "nope")


def test_migrate_in_production_needs_the_database_url(ias_home: Path) -> None:
    result = _run(IAS, "migrate", IAS_HOME=str(ias_home), IAS_MODE="production")

    _assert_one_line_error(result, "IAS_DATABASE_URL")


# --- ias up / ias serve: refusals -----------------------------------------------------------


def test_up_on_a_busy_port_is_one_line(ias_home: Path, busy_port: int) -> None:
    result = _run(IAS, "up", "--port", str(busy_port), IAS_HOME=str(ias_home))

    _assert_one_line_error(result, f"port {busy_port} on 127.0.0.1 is already in use")


def test_up_with_an_out_of_range_port_is_a_usage_error(ias_home: Path) -> None:
    result = _run(IAS, "up", "--port", "70000", IAS_HOME=str(ias_home))

    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not ias_home.exists()


def test_up_with_a_bad_port_variable_is_one_line(ias_home: Path) -> None:
    result = _run(IAS, "up", IAS_HOME=str(ias_home), IAS_SERVER__PORT="70000")

    _assert_one_line_error(result, "IAS_SERVER__PORT", "65535")


def test_up_with_an_unwritable_home_is_one_line(blocked_home: Path) -> None:
    result = _run(IAS, "up", "--port", str(_free_port()), IAS_HOME=str(blocked_home))

    _assert_one_line_error(result, f"IAS_HOME {blocked_home} is not writable")


def test_up_with_an_unreachable_database_is_one_line(ias_home: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/ias"

    result = _run(
        IAS, "up", "--port", str(_free_port()), IAS_HOME=str(ias_home), IAS_DATABASE_URL=url
    )

    _assert_one_line_error(result, "127.0.0.1:1", "not reachable")


def test_serve_in_production_names_every_missing_variable(ias_home: Path) -> None:
    result = _run(
        IAS,
        "serve",
        "router",
        IAS_HOME=str(ias_home),
        IAS_MODE="production",
        IAS_REDIS_URL="redis://127.0.0.1:6379/0",
    )

    line = _assert_one_line_error(result, "IAS_DATABASE_URL", "IAS_RABBITMQ_URL", "IAS_JWT_SECRET")
    assert "IAS_REDIS_URL" not in line


def test_serve_an_unknown_process_is_a_usage_error() -> None:
    result = _run(IAS, "serve", "everything")

    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr


# --- ias up: serving ------------------------------------------------------------------------


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _serve_until_healthy(
    args: list[str], port: int, **variables: str
) -> tuple[subprocess.CompletedProcess[str], int | None]:
    """Start a server, wait for GET /health, read GET /ready, stop it; its output."""
    process = subprocess.Popen(
        [str(IAS), *args, "--port", str(port)],
        env=_env(**variables),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    ready = None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while _status(f"{base}/health") != 200:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the server did not answer GET /health"
            time.sleep(0.2)
        ready = _status(f"{base}/ready")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), ready


def test_up_on_an_empty_home_serves_and_shows_the_password_once(ias_home: Path) -> None:
    first, ready = _serve_until_healthy(["up"], _free_port(), IAS_HOME=str(ias_home))

    assert first.returncode in STOPPED, first.stderr
    assert ready == 200
    assert "Traceback" not in first.stderr
    output = first.stdout + first.stderr
    match = re.search(r"password\s+(\S{20,})", first.stdout)
    assert match is not None, first.stdout
    password = match.group(1)
    assert output.count(password) == 1
    assert "admin@ias.local" in first.stdout
    assert stat.S_IMODE((ias_home / "secrets.json").stat().st_mode) == 0o600
    assert _users(ias_home) == [("admin@ias.local", 1)]

    second, _ = _serve_until_healthy(["up"], _free_port(), IAS_HOME=str(ias_home))

    assert second.returncode in STOPPED, second.stderr
    assert password not in second.stdout + second.stderr
    assert "admin@ias.local" not in second.stdout
    assert _users(ias_home) == [("admin@ias.local", 1)]


def test_up_after_bootstrap_creates_no_other_super_admin(ias_home: Path) -> None:
    created = _create_admin(ias_home, "--email", "ada@example.com", "--password", PASSWORD)
    assert created.returncode == 0, created.stderr

    result, _ = _serve_until_healthy(["up"], _free_port(), IAS_HOME=str(ias_home))

    assert result.returncode in STOPPED, result.stderr
    assert "admin@ias.local" not in result.stdout
    assert _users(ias_home) == [("ada@example.com", 1)]


def test_serve_mock_engine_answers_health(ias_home: Path) -> None:
    result, ready = _serve_until_healthy(
        ["serve", "mock-engine"], _free_port(), IAS_HOME=str(ias_home)
    )

    assert result.returncode in STOPPED, result.stderr
    assert ready == 200
