"""The built portal in headless Chromium against a real `ias up`, driven by Playwright.

Needs the portal built and its dependencies installed (`make portal`); `scripts/browser.sh`
makes sure Debian's chromium is there. The Playwright suite is `web/e2e/`; its screenshots land
in `web/e2e/screenshots/`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ias.bootstrap import INITIAL_ADMIN_EMAIL
from tests.e2e.embedded import STARTUP_SECONDS, Up, ias_up

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PLAYWRIGHT = WEB / "node_modules" / ".bin" / "playwright"
PORTAL_INDEX = ROOT / "src" / "ias" / "portal" / "index.html"
SUITE_SECONDS = 240


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    with ias_up(tmp_path) as running:
        yield running


@pytest.mark.timeout(SUITE_SECONDS + STARTUP_SECONDS + 60)
def test_the_portal_passes_its_browser_suite(up: Up) -> None:
    assert PORTAL_INDEX.exists(), "the portal is not built: run `make portal`"
    assert PLAYWRIGHT.exists(), "web/node_modules is not installed: run `make portal`"
    browser = subprocess.run(
        [str(ROOT / "scripts" / "browser.sh")], capture_output=True, text=True, check=False
    )
    assert browser.returncode == 0, browser.stderr

    env = os.environ | {
        "BASE_URL": up.url,
        "ADMIN_EMAIL": INITIAL_ADMIN_EMAIL,
        "ADMIN_PASSWORD": up.admin_password,
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
