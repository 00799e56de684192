"""Billing-grade metering, end to end, while parts of the pipeline fail.

The oracle is the mock engine's token log: one record per request that reached it, with the
tokens it really delivered, keyed by the usage event's id. The ledger must hold exactly one row
per such request — none lost, none twice — whatever was stopped or killed on the way.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from ias.engine.tokenlog import RequestStatus
from ias.router.usage import INTERRUPTED_ERROR
from tests.e2e.traffic import Load
from tests.integration.router.conftest import CHAT_MODEL
from tests.integration.usage.conftest import Pipeline, broker_stopped, start

OUTAGE_SECONDS = 60.0
SETTLE_SECONDS = 90.0
# A minute of outage, then the backlog to settle, on a loaded machine: past the default limit.
pytestmark = pytest.mark.timeout(OUTAGE_SECONDS + SETTLE_SECONDS + 120)


def assert_one_row_per_engine_request(pipeline: Pipeline, rows: dict[str, Any]) -> None:
    """Every request the engine saw is billed once; whenever the router saw it to the end (the
    row is not an interrupted one), with exactly the engine's tokens."""
    records = pipeline.engine.token_log.records()
    by_id = {record.request_id: record for record in records}
    assert len(by_id) == len(records), "the engine saw a request id twice"
    missing = sorted(set(by_id) - set(rows))
    assert not missing, f"{len(missing)} requests reached the engine and were never billed"
    for request_id, record in by_id.items():
        row = rows[request_id]
        if row["error_type"] != INTERRUPTED_ERROR:
            assert (row["prompt_tokens"], row["completion_tokens"]) == (
                record.prompt_tokens,
                record.completion_tokens,
            ), request_id


async def test_a_broker_outage_under_streaming_load_loses_and_duplicates_nothing(
    pipeline: Pipeline,
) -> None:
    router = start(pipeline.router())
    start(pipeline.worker())
    load = Load([router.url], pipeline.tenant.key, clients=8, model=CHAT_MODEL).start()
    await asyncio.sleep(2)
    with broker_stopped():
        await asyncio.sleep(OUTAGE_SECONDS)
        served_during_outage = load.completed
    await asyncio.sleep(3)
    await load.stop()
    assert load.failed == [], load.failed[:5]  # serving never stopped
    assert served_during_outage > 100
    records = pipeline.engine.token_log.records()
    rows = await pipeline.wait_for_rows(len(records), SETTLE_SECONDS)
    assert len(rows) == len(records) == load.completed
    assert all(record.status is RequestStatus.COMPLETED for record in records)
    assert not any(row["partial"] for row in rows.values())
    assert_one_row_per_engine_request(pipeline, rows)


async def test_a_router_killed_under_load_bills_every_request_that_reached_the_engine(
    pipeline: Pipeline,
) -> None:
    router = pipeline.router()
    start(router)
    start(pipeline.worker())
    load = Load(
        [router.url], pipeline.tenant.key, clients=12, max_tokens=40, model=CHAT_MODEL
    ).start()
    await asyncio.sleep(3)
    assert router.process is not None
    router.process.send_signal(signal.SIGKILL)  # streams in flight are cut mid-response
    router.process.wait()
    start(router)  # same home: the same spool and journal
    await asyncio.sleep(3)
    await load.stop()
    assert load.failed, "the kill should have cut some requests off"
    await asyncio.sleep(1)  # the engine notices the cut connections
    records = pipeline.engine.token_log.records()
    rows = await pipeline.wait_for_rows(len(records), SETTLE_SECONDS)
    assert_one_row_per_engine_request(pipeline, rows)
    cut = [rows[r.request_id] for r in records if r.status is RequestStatus.DISCONNECTED]
    assert cut, "no request was with the engine at the kill"
    assert all(row["error_type"] == INTERRUPTED_ERROR and row["partial"] for row in cut)
    # Rows beyond the engine's records: requests admitted but cut before they reached it.
    assert len(rows) - len(records) <= load.clients
