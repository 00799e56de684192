"""`api_keys.last_used_at`, written off the hot path.

Requests only note the key id in a set; a background task writes the whole set every
`interval_seconds` in one UPDATE. Losing a few seconds of "last used" on a crash is fine; a
database write per request is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import ApiKey

logger = logging.getLogger("ias.router.last_used")


class LastUsed:
    def __init__(self, db: Database, *, interval_seconds: float) -> None:
        self._db = db
        self._interval = interval_seconds
        self._pending: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def touch(self, key_id: uuid.UUID) -> None:
        self._pending.add(key_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever(), name="last-used-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, set()
        try:
            async with self._db.unit_of_work() as session:
                await session.execute(
                    update(ApiKey)
                    .where(ApiKey.id.in_(batch))
                    .values(last_used_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("could not record key use (%s); will retry", exc)
            self._pending |= batch

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
