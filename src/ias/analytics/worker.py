"""`ias worker usage`: the ledger consumer and the ledger's upkeep, side by side in one process."""

from __future__ import annotations

import asyncio

from ias.analytics.consumer import UsageConsumer
from ias.analytics.ledger import Ledger
from ias.analytics.maintenance import LedgerMaintenance
from ias.kit.db import Database
from ias.settings import AnalyticsSettings


async def run_usage_worker(
    db: Database, amqp_url: str, settings: AnalyticsSettings, stop: asyncio.Event
) -> None:
    """Consume usage events and keep partitions and retention up to date until `stop` is set."""
    consumer = UsageConsumer(Ledger(db), amqp_url, settings)
    maintenance = LedgerMaintenance(db, settings)
    async with asyncio.TaskGroup() as group:
        group.create_task(maintenance.run_periodically(stop))
        group.create_task(consumer.run(stop))
