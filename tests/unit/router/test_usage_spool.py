"""The router's usage spool and relay: nothing submitted is lost or left behind, whatever the
publisher does, and a restart bills the requests that were cut off."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ias.contracts.usage import UsageEvent, decode_batch
from ias.errors import Unavailable
from ias.router.ledger import SpoolSink


def event(n: int, **changes: object) -> UsageEvent:
    base = {
        "event_id": uuid.UUID(int=n + 1),
        "ts": datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        "org_id": uuid.UUID(int=7),
        "user_id": None,
        "api_key_id": uuid.UUID(int=8),
        "model": "m",
        "backend_id": None,
        "endpoint": "chat/completions",
        "http_status": 200,
        "error_type": None,
        "prompt_tokens": n,
        "completion_tokens": 2 * n,
        "cached_tokens": 0,
        "cost_micros": 0,
        "latency_ms": 1,
        "ttft_ms": None,
        "stream": False,
        "partial": False,
    }
    return UsageEvent(**(base | changes))  # type: ignore[arg-type]


class FlakyPublisher:
    """Confirms what it is given, except while `down`; remembers every event it confirmed."""

    def __init__(self) -> None:
        self.down = False
        self.confirmed: list[UsageEvent] = []
        self.attempts = 0

    async def publish(self, body: bytes, count: int) -> None:
        self.attempts += 1
        await asyncio.sleep(0.001)
        if self.down:
            raise ConnectionError("broker away")
        events = decode_batch(body)
        assert len(events) == count
        self.confirmed += events

    async def close(self) -> None:
        pass


def sink_in(directory: Path, publisher: FlakyPublisher, **options: object) -> SpoolSink:
    options = {"max_bytes": 10**9, "retry_seconds": (0.01, 0.05)} | options
    return SpoolSink(directory, publisher, **options)  # type: ignore[arg-type]


async def wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_every_event_is_published_once_and_the_spool_empties(tmp_path: Path) -> None:
    publisher = FlakyPublisher()
    sink = sink_in(tmp_path, publisher)
    sink.open()
    sink.start()
    for n in range(2500):
        sink.begin(event(n, http_status=500))
        sink.submit(event(n))
    await wait_for(lambda: len(publisher.confirmed) == 2500)
    assert [e.event_id for e in publisher.confirmed] == [event(n).event_id for n in range(2500)]
    await sink.close(drain_seconds=1)
    assert sink.spool.pending == 0


async def test_a_broker_outage_keeps_events_until_it_is_back(tmp_path: Path) -> None:
    publisher = FlakyPublisher()
    publisher.down = True
    sink = sink_in(tmp_path, publisher)
    sink.open()
    sink.start()
    for n in range(300):
        sink.submit(event(n))
    await asyncio.sleep(0.2)
    assert publisher.confirmed == []
    assert sink.spool.pending == 300
    publisher.down = False
    await wait_for(lambda: len(publisher.confirmed) >= 300)
    assert sorted(e.event_id.int for e in publisher.confirmed) == [n + 1 for n in range(300)]
    await sink.close(drain_seconds=1)


async def test_a_full_spool_refuses_new_requests(tmp_path: Path) -> None:
    publisher = FlakyPublisher()
    publisher.down = True
    sink = sink_in(tmp_path, publisher, max_bytes=1024 * 1024)
    sink.open()
    sink.start()
    sink.check_room()
    n = 0
    while not sink.spool.full:
        sink.submit(event(n))
        n += 1
    with pytest.raises(Unavailable, match="usage spool is full"):
        sink.check_room()
    publisher.down = False
    await wait_for(lambda: not sink.spool.full)
    sink.check_room()
    await sink.close(drain_seconds=1)


async def test_a_restart_delivers_leftovers_and_bills_interrupted_requests(
    tmp_path: Path,
) -> None:
    publisher = FlakyPublisher()
    publisher.down = True
    sink = sink_in(tmp_path, publisher)
    sink.open()
    sink.start()
    for n in range(10):  # finished, not yet published
        sink.begin(event(n, http_status=500, partial=True))
        sink.submit(event(n))
    for n in range(10, 13):  # still with the backend when the process dies
        sink.begin(event(n, http_status=500, partial=True))
    for task in sink._tasks:  # killed: no drain; the process's files close with it
        task.cancel()
    await asyncio.sleep(0)
    sink.journal.close()
    sink.spool.close()

    publisher = FlakyPublisher()
    restarted = sink_in(tmp_path, publisher)
    assert restarted.open() == 3
    restarted.start()
    await wait_for(lambda: len(publisher.confirmed) == 13)
    by_id = {e.event_id.int - 1: e for e in publisher.confirmed}
    assert sorted(by_id) == list(range(13))
    assert all(by_id[n].http_status == 200 for n in range(10))
    assert all(by_id[n].partial and by_id[n].http_status == 500 for n in range(10, 13))
    await restarted.close(drain_seconds=1)


async def test_shutdown_drains_what_it_can_and_keeps_the_rest(tmp_path: Path) -> None:
    publisher = FlakyPublisher()
    publisher.down = True
    sink = sink_in(tmp_path, publisher)
    sink.open()
    sink.start()
    for n in range(5):
        sink.submit(event(n))
    await sink.close(drain_seconds=0.1)
    publisher = FlakyPublisher()
    again = sink_in(tmp_path, publisher)
    again.open()
    again.start()
    await again.close(drain_seconds=2)
    assert len(publisher.confirmed) == 5
