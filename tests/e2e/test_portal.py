"""The built portal in headless Chromium against a real `ias up`, driven by Playwright.

Needs the portal built and its dependencies installed (`make portal`); `scripts/browser.sh`
makes sure Debian's chromium is there. The Playwright suite is `web/e2e/`; its screenshots land
in `web/e2e/screenshots/`.
"""

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

from ias.bootstrap import INITIAL_ADMIN_EMAIL
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PLAYWRIGHT = WEB / "node_modules" / ".bin" / "playwright"
PORTAL_INDEX = ROOT / "src" / "ias" / "portal" / "index.html"
IAS = Path(sys.executable).parent / "ias"
STARTUP_SECONDS = 30.0
SUITE_SECONDS = 240


@pytest.fixture
def ias_up(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`ias up` on a fresh home and a free port: (its URL, the first admin's password)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    log_path = tmp_path / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(IAS), "up", "--port", str(port)],
            env=env | {"IAS_HOME": str(tmp_path / "home")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "ias up did not become ready"
                time.sleep(0.2)
            match = re.search(r"password\s+(\S{20,})", log_path.read_text())
            assert match is not None, log_path.read_text()
            yield url, match.group(1)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.mark.timeout(SUITE_SECONDS + STARTUP_SECONDS + 60)
def test_the_portal_passes_its_browser_suite(ias_up: tuple[str, str]) -> None:
    assert PORTAL_INDEX.exists(), "the portal is not built: run `make portal`"
    assert PLAYWRIGHT.exists(), "web/node_modules is not installed: run `make portal`"
    browser = subprocess.run(
        [str(ROOT / "scripts" / "browser.sh")], capture_output=True, text=True, check=False
    )
    assert browser.returncode == 0, browser.stderr

    url, password = ias_up
    env = os.environ | {
        "BASE_URL": url,
        "ADMIN_EMAIL": INITIAL_ADMIN_EMAIL,
        "ADMIN_PASSWORD": password,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "SCREENSHOT_DIR": str(WEB / "e2e" / "screenshots"),
        "CI": "1",  # no interactive report server, whoever runs it
    }
    suite = subprocess.run(
        [str(PLAYWRIGHT), "test", "--config", "e2e/playwright.config.ts"],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_SECONDS,
        check=False,
    )
    output = suite.stdout + suite.stderr
    assert suite.returncode == 0, output
    assert re.search(r"\b\d+ passed\b", output), output
    for name in ("login", "org-home"):
        assert (WEB / "e2e" / "screenshots" / f"{name}.png").exists(), name
