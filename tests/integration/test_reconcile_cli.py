"""`ias-admin usage reconcile` against a real engine and a real ledger.

A built-in engine serves on loopback (its `/metrics` behind an API key, as a real deployment
may put it), is registered as a backend with that key stored encrypted, answers requests sent
to it directly, and the ledger gets one row per answer — or one fewer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import delete
from starlette.types import ASGIApp, Receive, Scope, Send

from ias.engine import EngineConfig, EngineModel, create_engine_app
from ias.kit.clock import utcnow
from ias.kit.crypto import Encryptor
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.migrations import runner
from ias.models import Backend, ModelEntry, ModelKind, UsageEvent
from tests.servers import ServerThread, free_port

pytestmark = pytest.mark.postgres

IAS_ADMIN = Path(sys.executable).parent / "ias-admin"
ENCRYPTION_KEY = "reconcile-tests-encryption-key-0123456789"
ENGINE_KEY = "engine-metrics-key"
SERVED = "org/upstream-chat-7b"


class MetricsBehindKey:
    """Refuses `/metrics` without the engine's API key, as an authenticating proxy would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/metrics":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {ENGINE_KEY}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self.app(scope, receive, send)


@pytest.fixture
def engine() -> Iterator[ServerThread]:
    app = create_engine_app(EngineConfig(models=(EngineModel(SERVED, "chat"),)))
    with ServerThread(MetricsBehindKey(app)) as server:
        yield server


async def _register(db_url: str, name: str, url: str) -> uuid.UUID:
    """A model and one backend at `url` whose API key is stored encrypted."""
    await runner.upgrade(db_url)
    db = Database.from_url(db_url)
    now = utcnow()
    model = ModelEntry(
        id=uuid7(),
        name=name,
        kind=ModelKind.CHAT,
        upstream_model=SERVED,
        context_length=4096,
        created_at=now,
        updated_at=now,
    )
    backend = Backend(
        id=uuid7(),
        model_id=model.id,
        url=url,
        api_key_encrypted=Encryptor(ENCRYPTION_KEY).encrypt(ENGINE_KEY),
        weight=1,
        created_at=now,
    )
    try:
        async with db.unit_of_work() as session:
            session.add(model)
            await session.flush()
            session.add(backend)
    finally:
        await db.dispose()
    return backend.id


def _ask_engine(engine: ServerThread) -> list[dict[str, int]]:
    """Three answers straight from the engine, one streamed; their reported usage."""
    usages = []
    with httpx.Client(base_url=engine.url, timeout=10) as client:
        for words in ("Tell me about rivers.", "And lakes?"):
            body = {"model": SERVED, "messages": [{"role": "user", "content": words}]}
            usages.append(client.post("/v1/chat/completions", json=body).json()["usage"])
        streamed = {
            "model": SERVED,
            "messages": [{"role": "user", "content": "And the sea?"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        text = client.post("/v1/chat/completions", json=streamed).text
        frames = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
        usages.append(orjson.loads(frames[-2])["usage"])
    return usages


async def _bill(
    db_url: str, backend_id: uuid.UUID, usages: list[dict[str, int]]
) -> list[uuid.UUID]:
    db = Database.from_url(db_url)
    events = [
        UsageEvent(
            event_id=uuid7(),
            ts=utcnow(),
            org_id=uuid.uuid4(),
            user_id=None,
            api_key_id=uuid.uuid4(),
            model="chat-model",
            backend_id=backend_id,
            endpoint="chat/completions",
            http_status=200,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            cached_tokens=0,
            cost_micros=0,
            latency_ms=5,
            ttft_ms=None,
            stream=False,
            partial=False,
        )
        for usage in usages
    ]
    try:
        async with db.unit_of_work() as session:
            session.add_all(events)
    finally:
        await db.dispose()
    return [event.event_id for event in events]


async def _forget(db_url: str, event_id: uuid.UUID) -> None:
    db = Database.from_url(db_url)
    try:
        async with db.unit_of_work() as session:
            await session.execute(delete(UsageEvent).where(UsageEvent.event_id == event_id))
    finally:
        await db.dispose()


def _reconcile(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    env.update(
        IAS_DATABASE_URL=db_url,
        IAS_ENCRYPTION_KEY=ENCRYPTION_KEY,
        IAS_HOME=str(tmp_path / "home"),
        COLUMNS="200",  # error panels wrap at the terminal width
    )
    return subprocess.run(
        [str(IAS_ADMIN), "usage", "reconcile", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _json_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stderr
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


def _total(usages: list[dict[str, int]]) -> dict[str, int]:
    return {
        "prompt_tokens": sum(usage["prompt_tokens"] for usage in usages),
        "completion_tokens": sum(usage["completion_tokens"] for usage in usages),
    }


async def test_a_complete_ledger_is_ok_and_a_missing_row_is_drift(
    postgres_url: str, engine: ServerThread, tmp_path: Path
) -> None:
    backend_id = await _register(postgres_url, "chat-model", engine.url + "/v1")
    usages = _ask_engine(engine)
    event_ids = await _bill(postgres_url, backend_id, usages)
    # Later than the engine's start: the counters cannot be cut there, so the report says so.
    since = datetime.now(UTC).isoformat()

    matched = _reconcile(postgres_url, tmp_path, "--since", since, "--json")
    assert matched.returncode == 0, matched.stderr
    report = _json_report(matched)
    assert report["ok"] is True
    [line] = report["backends"]
    assert line["backend_ids"] == [str(backend_id)]
    assert line["verdict"] == "ok"
    assert line["ledger"] == line["engine"] == _total(usages)
    assert line["drift"]["prompt_tokens"] == line["drift"]["completion_tokens"] == 0
    assert line["window"]["since_was_after_engine_start"] is True
    assert "compared from the engine start" in line["reason"]

    table = _reconcile(postgres_url, tmp_path, "--since", "24h")
    assert table.returncode == 0, table.stderr
    assert str(backend_id) in table.stdout
    assert "all ok" in table.stdout

    await _forget(postgres_url, event_ids[-1])
    missing = usages[-1]
    drifted = _reconcile(postgres_url, tmp_path, "--since", "24h", "--json")
    assert drifted.returncode == 1
    [line] = _json_report(drifted)["backends"]
    assert line["verdict"] == "drift"
    assert line["ledger"] == _total(usages[:-1])
    assert line["engine"] == _total(usages)
    assert line["drift"]["prompt_tokens"] == missing["prompt_tokens"]
    assert line["drift"]["completion_tokens"] == missing["completion_tokens"]
    share = 100 * missing["completion_tokens"] / _total(usages)["completion_tokens"]
    assert line["drift"]["completion_percent"] == round(share, 2)

    table = _reconcile(postgres_url, tmp_path, "--since", "24h")
    assert table.returncode == 1
    assert f"+{missing['completion_tokens']} (" in table.stdout
    assert "drift" in table.stdout

    tolerated = str(max(missing["prompt_tokens"], missing["completion_tokens"]))
    lenient = _reconcile(postgres_url, tmp_path, "--since", "24h", "--tolerance-tokens", tolerated)
    assert lenient.returncode == 0, lenient.stdout


async def test_an_unreachable_backend_is_reported_beside_the_others(
    postgres_url: str, engine: ServerThread, tmp_path: Path
) -> None:
    live = await _register(postgres_url, "chat-model", engine.url)
    dead = await _register(postgres_url, "old-chat", f"http://127.0.0.1:{free_port()}/v1")

    result = _reconcile(postgres_url, tmp_path, "--since", "1h", "--json")
    assert result.returncode == 1
    verdicts = {
        line["backend_ids"][0]: (line["verdict"], line["reason"])
        for line in _json_report(result)["backends"]
    }
    assert verdicts[str(live)][0] == "ok"
    verdict, reason = verdicts[str(dead)]
    assert verdict == "unreachable"
    assert "is not reachable" in reason

    table = _reconcile(postgres_url, tmp_path, "--since", "1h")
    assert table.returncode == 1
    assert "unreachable" in table.stdout
    assert "1 of 2 not ok" in table.stdout

    only_live = _reconcile(postgres_url, tmp_path, "--since", "1h", "--backend", str(live))
    assert only_live.returncode == 0, only_live.stdout

    unknown = _reconcile(postgres_url, tmp_path, "--since", "1h", "--backend", str(uuid.uuid4()))
    assert unknown.returncode == 2
    assert "no backend has the id" in unknown.stderr


@pytest.mark.parametrize("since", ["yesterday", "2025-05-01", "3 days", "2999-01-01T00:00:00Z"])
def test_a_bad_since_is_a_usage_error(since: str, tmp_path: Path) -> None:
    result = _reconcile(
        "postgresql+asyncpg://postgres@127.0.0.1:1/none", tmp_path, "--since", since
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--since" in result.stderr
