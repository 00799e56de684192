"""Upkeep of the raw usage table: partitions ahead of time, and retention of old events.

On PostgreSQL, `usage_events` has one partition per UTC month. Each run creates the partitions
from last month to `partitions_ahead_months` ahead (as the first migration did), so inserts
never wait on DDL, and drops the partitions whose month ended more than `retention_days` ago.
On SQLite, retention deletes the raw rows older than `retention_days` instead.

Only raw events expire. Rollups are never deleted: dashboards, invoices and the limiter's
monthly baseline read them, and they stay correct after the raw rows behind them are gone.
`retention_days = 0` keeps raw events forever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete

from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import UsageEvent
from ias.models.partitions import (
    add_months,
    drop_usage_partitions_before,
    ensure_usage_partitions,
    month_start,
)
from ias.settings import AnalyticsSettings

logger = logging.getLogger("ias.analytics.maintenance")


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted_rows: int = 0


class LedgerMaintenance:
    def __init__(self, db: Database, settings: AnalyticsSettings) -> None:
        self._db = db
        self._settings = settings

    def retention_cutoff(self, now: datetime) -> datetime | None:
        """Raw events before this instant may go; None when they are kept forever."""
        if self._settings.retention_days == 0:
            return None
        return now - timedelta(days=self._settings.retention_days)

    async def run_once(self, now: datetime | None = None) -> MaintenanceReport:
        now = now or utcnow()
        cutoff = self.retention_cutoff(now)
        if self._db.dialect != "postgresql":
            return MaintenanceReport(deleted_rows=await self._delete_before(cutoff))
        created = await ensure_usage_partitions(
            self._db.engine,
            start=add_months(month_start(now), -1),
            months=self._settings.partitions_ahead_months + 2,
        )
        dropped: list[str] = []
        if cutoff is not None:
            async with self._db.engine.begin() as connection:
                dropped = await drop_usage_partitions_before(connection, cutoff)
        if created or dropped:
            logger.info(
                "usage partitions created: %s; dropped past retention: %s",
                ", ".join(created) or "none",
                ", ".join(dropped) or "none",
            )
        return MaintenanceReport(created=created, dropped=dropped)

    async def run_periodically(self, stop: asyncio.Event) -> None:
        """Run now and then every `maintenance_interval_seconds` until `stop` is set.

        A failed run is logged and tried again at the next interval; partitions are made months
        ahead, so a missed run costs nothing but the log line.
        """
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                logger.warning("usage ledger maintenance failed; will try again", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), self._settings.maintenance_interval_seconds)
            except TimeoutError:
                continue

    async def _delete_before(self, cutoff: datetime | None) -> int:
        if cutoff is None:
            return 0
        async with self._db.engine.begin() as connection:
            result = await connection.execute(delete(UsageEvent).where(UsageEvent.ts < cutoff))
        return int(result.rowcount)
