"""No secret and no prompt text in any log line, with everything logged at DEBUG.

A real `ias up` (embedded stores, JSON logs at DEBUG: every library's chatter included) goes
through a sign-in, a wrong password, a token refresh, an org and an API key made through
`/api`, and `/v1` calls whose prompts carry a unique marker. Then every line it wrote to its
log is searched for the admin password, the wrong password, each access and refresh token
seen, the API key, an unknown key and the marker: none may appear, not even once.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from ias.bootstrap import INITIAL_ADMIN_EMAIL
from ias.contracts.api_keys import generate_key
from tests.leaks import find_secrets, refresh_token_of
from tests.servers import free_port

IAS = Path(sys.executable).parent / "ias"
STARTUP_SECONDS = 30.0


@dataclass
class Running:
    url: str
    password: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


@pytest.fixture
def ias_up(tmp_path: Path) -> Iterator[Running]:
    """`ias up` on a fresh home, logging JSON at DEBUG to its own file (stdout, where the
    first password is shown once, is kept apart: it is the operator's console, not a log)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("IAS_", "OTEL_"))}
    env |= {
        "IAS_HOME": str(tmp_path / "home"),
        "IAS_LOG_LEVEL": "DEBUG",
        "IAS_LOG_FORMAT": "json",
    }
    console_path, log_path = tmp_path / "console.txt", tmp_path / "log.jsonl"
    with console_path.open("wb") as console, log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(IAS), "up", "--port", str(port)], env=env, stdout=console, stderr=log
        )
    running = Running(f"http://127.0.0.1:{port}", "", log_path, process)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{running.url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "ias up did not become ready"
            time.sleep(0.2)
        match = re.search(r"password\s+(\S{20,})", console_path.read_text())
        assert match is not None, console_path.read_text()
        running.password = match.group(1)
        yield running
    finally:
        running.stop()


def _exercise(url: str, password: str, marker: str) -> dict[str, str]:
    """Drive the platform as a user would; returns every secret it handed out or was given."""
    seen = {"admin password": password}
    with httpx.Client(base_url=url, timeout=30) as client:
        wrong = f"wrong-{secrets.token_urlsafe(16)}"
        seen["wrong password"] = wrong
        refused = client.post(
            "/api/auth/login", json={"email": INITIAL_ADMIN_EMAIL, "password": wrong}
        )
        assert refused.status_code == 401, refused.text

        login = client.post(
            "/api/auth/login", json={"email": INITIAL_ADMIN_EMAIL, "password": password}
        )
        assert login.status_code == 200, login.text
        seen["access token"] = login.json()["access_token"]
        seen["refresh token"] = refresh_token_of(login)

        refreshed = client.post("/api/auth/refresh", json={"refresh_token": seen["refresh token"]})
        assert refreshed.status_code == 200, refreshed.text
        seen["refreshed access token"] = access = refreshed.json()["access_token"]
        seen["refreshed refresh token"] = refresh_token_of(refreshed)
        signed_in = {"authorization": f"Bearer {access}"}

        org = client.post("/api/orgs", json={"name": "Log Audit"}, headers=signed_in)
        assert org.status_code == 201, org.text
        created = client.post(
            f"/api/orgs/{org.json()['id']}/api-keys", json={"name": "audit"}, headers=signed_in
        )
        assert created.status_code == 201, created.text
        seen["api key"] = key = created.json()["key"]
        with_key = {"authorization": f"Bearer {key}"}

        chat = {"model": "demo-chat", "max_tokens": 8}
        calls = [
            ("/v1/chat/completions", chat | {"messages": [{"role": "user", "content": marker}]}),
            (
                "/v1/chat/completions",
                chat | {"messages": [{"role": "user", "content": marker}], "stream": True},
            ),
            ("/v1/completions", chat | {"prompt": f"say {marker}"}),
            ("/v1/embeddings", {"model": "demo-embed", "input": [marker]}),
        ]
        for path, body in calls:
            answer = client.post(path, content=orjson.dumps(body), headers=with_key)
            assert answer.status_code == 200, answer.text
        # A malformed request still must not echo its prompt into the log.
        bad = client.post("/v1/chat/completions", json={"messages": marker}, headers=with_key)
        assert bad.status_code == 400, bad.text

        seen["unknown api key"] = unknown = generate_key()
        stranger = client.post(
            "/v1/chat/completions",
            json=chat | {"messages": [{"role": "user", "content": marker}]},
            headers={"authorization": f"Bearer {unknown}"},
        )
        assert stranger.status_code == 401, stranger.text
        assert client.get("/api/me", headers=signed_in).status_code == 200
    return seen


@pytest.mark.timeout(180)
def test_no_secret_and_no_prompt_reaches_the_log(ias_up: Running) -> None:
    marker = f"PROMPT-MARKER-{secrets.token_hex(12)}"
    seen = _exercise(ias_up.url, ias_up.password, marker)
    ias_up.stop()  # everything flushed: the whole log is on disk

    lines = ias_up.log_lines()
    entries = [orjson.loads(line) for line in lines if line.startswith("{")]
    # The log is really at DEBUG and covers the requests' work (the database driver's
    # statements, with their parameters), so an absent secret is absent for a reason.
    assert any(entry["level"] == "debug" for entry in entries)
    assert any("INSERT INTO api_keys" in entry["message"] for entry in entries)
    assert any("INSERT INTO refresh_sessions" in entry["message"] for entry in entries)
    # A line written while serving a request names its trace as well as the request.
    in_requests = [entry for entry in entries if "request_id" in entry]
    assert all(len(entry.get("trace_id", "")) == 32 for entry in in_requests)

    seen["prompt marker"] = marker
    leaks = find_secrets({"log": "\n".join(lines)}, seen)
    assert leaks == {}, f"found in the log: {leaks}"
