"""`ias up` meters like production, with no broker: the router's spool feeds the same ledger
code in-process, into SQLite, and the usage API reports what the engine served."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

IAS = Path(sys.executable).parent / "ias"
STARTUP_SECONDS = 30.0


@pytest.fixture
def up(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`ias up` on a fresh home: (its URL, the first admin's password, the home)."""
    home = tmp_path / "home"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [str(IAS), "up", "--port", str(port)],
        env=env | {"IAS_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, (tmp_path / "up.log").read_text()
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "ias up did not become ready"
        time.sleep(0.2)
    match = re.search(r"password\s+(\S{20,})", (tmp_path / "up.log").read_text())
    assert match is not None
    yield url, match.group(1), home
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()
    assert process.returncode in (0, -signal.SIGTERM), (tmp_path / "up.log").read_text()
    assert list((home / "spool").glob("*.seg")) == [], "the spool was not drained at shutdown"


def test_usage_served_by_ias_up_shows_in_the_usage_api(up: tuple[str, str, Path]) -> None:
    url, password, _ = up
    with httpx.Client(base_url=url, timeout=30) as client:
        login = client.post(
            "/api/auth/login", json={"email": "admin@ias.local", "password": password}
        )
        assert login.status_code == 200, login.text
        client.headers["authorization"] = f"Bearer {login.json()['access_token']}"
        org = client.post("/api/orgs", json={"name": "Embedded"}).json()
        key = client.post(f"/api/orgs/{org['id']}/api-keys", json={"name": "k"}).json()["key"]
        served = []
        for stream in (False, True):
            body = {
                "model": "demo-chat",
                "messages": [{"role": "user", "content": "hello there"}],
                "max_tokens": 12,
                "stream": stream,
                "stream_options": {"include_usage": True} if stream else None,
            }
            response = client.post(
                "/v1/chat/completions",
                json={k: v for k, v in body.items() if v is not None},
                headers={"authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text
            if stream:
                usage = next(line for line in response.text.splitlines() if '"usage":{' in line)
                served.append(httpx.Response(200, content=usage.removeprefix("data: ")).json())
            else:
                served.append(response.json())
        deadline = time.monotonic() + 10
        while True:
            report = client.get(
                f"/api/orgs/{org['id']}/usage", params={"granularity": "minute"}
            ).json()
            if report["totals"]["requests"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    totals = report["totals"]
    assert totals["requests"] == 2
    assert totals["prompt_tokens"] == sum(s["usage"]["prompt_tokens"] for s in served)
    assert totals["completion_tokens"] == sum(s["usage"]["completion_tokens"] for s in served)
    assert totals["errors"] == 0
