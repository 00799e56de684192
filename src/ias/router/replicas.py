"""How many routers share the limits, for the limiter's fallback share (limit ÷ replicas).

Each router refreshes a heartbeat key in Redis and counts the live ones on the same period.
The last count seen is kept, so when Redis goes away the fallback still divides by the number
of routers that were alive just before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import redis.asyncio as redis_asyncio

from ias.kit.redis_errors import REDIS_UNAVAILABLE

logger = logging.getLogger("ias.router.replicas")
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 15


class ReplicaCounter:
    def __init__(self, client: redis_asyncio.Redis, prefix: str) -> None:
        self._client = client
        self._pattern = f"{prefix}routers:*"
        self._key = f"{prefix}routers:{uuid.uuid4().hex}"
        self._count = 1
        self._task: asyncio.Task[None] | None = None

    def __call__(self) -> int:
        return self._count

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._beat_forever(), name="router-heartbeat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*REDIS_UNAVAILABLE):
            await self._client.delete(self._key)

    async def beat(self) -> None:
        try:
            await self._client.set(self._key, b"1", ex=HEARTBEAT_TTL_SECONDS)
            count = 0
            async for _ in self._client.scan_iter(match=self._pattern, count=100):
                count += 1
            self._count = max(1, count)
        except REDIS_UNAVAILABLE as exc:
            logger.warning("router heartbeat failed (%s); keeping %d replicas", exc, self._count)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.beat()
