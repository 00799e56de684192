"""The README's first screen, as a newcomer follows it: `ias up`, `ias-admin demo seed` from a
second terminal, a call with the `openai` SDK, and the demo org's usage in the portal's API."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.embedded import BIN, STARTUP_SECONDS, ias_up


@pytest.mark.timeout(STARTUP_SECONDS + 120)
def test_a_newcomer_gets_demo_data_a_call_and_a_dashboard(tmp_path: Path) -> None:
    with ias_up(tmp_path) as up:
        seeded = subprocess.run(
            [str(BIN / "ias-admin"), "demo", "seed", "--json"],
            env=up.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stderr
        report = json.loads(seeded.stdout)

        with openai.OpenAI(base_url=f"{up.url}/v1", api_key=report["new_keys"]["web-app"]) as sdk:
            answer = sdk.chat.completions.create(
                model="demo-chat", messages=[{"role": "user", "content": "Hello"}], max_tokens=8
            )
        assert answer.choices[0].message.content
        assert answer.usage is not None

        with httpx.Client(base_url=f"{up.url}/api", timeout=30) as api:
            login = api.post(
                "/auth/login",
                json={"email": "owner@demo.ias.local", "password": report["password"]},
            )
            assert login.status_code == 200, login.text
            api.headers["authorization"] = f"Bearer {login.json()['access_token']}"
            (org,) = api.get("/orgs").json()
            now = datetime.now(UTC)
            window = {
                "start": (now - timedelta(days=31)).isoformat(),
                "end": (now + timedelta(hours=1)).isoformat(),
                "granularity": "day",
                "group_by": "model",
            }
            usage = api.get(f"/orgs/{org['id']}/usage", params=window)
            portal = httpx.get(up.url + "/", timeout=10)

    assert usage.status_code == 200, usage.text
    totals = usage.json()["totals"]
    # The month seeded, and the call just made (once the ledger has it) on top.
    assert totals["requests"] >= report["requests"]
    assert totals["prompt_tokens"] >= report["prompt_tokens"]
    assert portal.status_code == 200
    assert "<html" in portal.text.lower()
