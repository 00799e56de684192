"""`ias worker usage` as a real process: startup errors, and the ledger exact across SIGKILLs."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import asyncpg
import pytest

from ias.contracts.usage import encode_batch
from ias.migrations import runner
from tests.integration.analytics.broker import publish, queue_depths
from tests.integration.analytics.support import EventFactory, assert_rollups_match_raw
from tests.servers import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

IAS = Path(sys.executable).parent / "ias"
KILLS = 20


def _env(home: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    env.update(IAS_HOME=str(home), IAS_MODE="production", IAS_LOG_FORMAT="text", **variables)
    return env


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IAS), "worker", "usage"], env=env, capture_output=True, text=True, timeout=60
    )


def test_without_a_broker_url_it_says_which_variable_is_missing(
    postgres_url: str, tmp_path: Path
) -> None:
    line = _one_line_error(_run(_env(tmp_path, IAS_DATABASE_URL=postgres_url)))
    assert "IAS_RABBITMQ_URL" in line


async def test_an_unreachable_broker_is_one_line_without_its_password(
    postgres_url: str, tmp_path: Path
) -> None:
    await runner.upgrade(postgres_url)
    url = f"amqp://guest:hunter2-secret@127.0.0.1:{free_port()}/ledger"
    env = _env(tmp_path, IAS_DATABASE_URL=postgres_url, IAS_RABBITMQ_URL=url)
    line = _one_line_error(await asyncio.to_thread(_run, env))
    assert "not reachable" in line
    assert "virtual host 'ledger'" in line
    assert "hunter2" not in line


def test_an_unmigrated_database_is_refused(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, IAS_DATABASE_URL=postgres_url, IAS_RABBITMQ_URL=amqp_url)
    assert "ias migrate" in _one_line_error(_run(env))


def _start_worker(env: dict[str, str], log: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(IAS), "worker", "usage"], env=env, stderr=log)


async def _row_count(connection: asyncpg.Connection) -> int:
    count: int = await connection.fetchval("SELECT count(*) FROM usage_events")
    return count


async def test_killed_mid_batch_twenty_times_the_ledger_stays_exact(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    await runner.upgrade(postgres_url)
    factory = EventFactory(seed=53, orgs=4)
    messages = [factory.events(100) for _ in range(1000)]
    bodies = [encode_batch(batch) for batch in messages]
    # Duplicate deliveries: whole messages published twice, and events repeated across messages.
    bodies += bodies[::10] + [
        encode_batch(messages[n][:50] + messages[n + 1][:50]) for n in range(50)
    ]
    random.Random(5).shuffle(bodies)
    await publish(amqp_url, bodies)
    distinct = len({event.event_id for batch in messages for event in batch})

    env = _env(
        tmp_path,
        IAS_DATABASE_URL=postgres_url,
        IAS_RABBITMQ_URL=amqp_url,
        IAS_ANALYTICS__BATCH_MAX_EVENTS="1000",
        IAS_ANALYTICS__BATCH_MAX_WAIT_MS="20",
        IAS_ANALYTICS__PREFETCH="30",
    )
    log_path = tmp_path / "worker.log"
    pick = random.Random(7)
    db = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        with log_path.open("ab") as log:
            for _ in range(KILLS):
                worker = _start_worker(env, log)
                before = await _row_count(db)
                deadline = time.monotonic() + 20
                while await _row_count(db) == before:
                    assert worker.poll() is None, log_path.read_text()[-2000:]
                    assert time.monotonic() < deadline, "the worker stored nothing"
                    await asyncio.sleep(0.005)
                await asyncio.sleep(pick.uniform(0, 0.05))
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                ready, dead = await queue_depths(amqp_url)
                assert ready > 0, "the queue drained before the worker was killed"
                assert dead == 0

            worker = _start_worker(env, log)
            deadline = time.monotonic() + 40
            while await _row_count(db) < distinct or (await queue_depths(amqp_url))[0] > 0:
                assert time.monotonic() < deadline, f"{await _row_count(db)} of {distinct} rows"
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # the last acknowledgements
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0, log_path.read_text()[-2000:]
    finally:
        await db.close()

    assert await queue_depths(amqp_url) == (0, 0)
    from ias.kit.db import create_engine

    engine = create_engine(postgres_url)
    try:
        await assert_rollups_match_raw(engine, distinct)
    finally:
        await engine.dispose()
    assert "Traceback" not in log_path.read_text()
