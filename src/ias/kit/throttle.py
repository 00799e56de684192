"""Failure counters over a fixed window, for throttling logins and similar abuse.

Two implementations with one meaning: `RedisThrottle` shares the counts between every
replica; `MemoryThrottle` is the embedded default for a single process.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

import redis.asyncio as redis_asyncio


class Throttle(Protocol):
    async def retry_after(self, key: str, limit: int) -> int | None:
        """Seconds until `key` may try again, or None when it is under `limit`."""

    async def record(self, key: str, window_seconds: int) -> int:
        """Count one more failure for `key`; the window starts at the first failure."""

    async def reset(self, key: str) -> None: ...


class MemoryThrottle:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= time.monotonic():
            del self._counts[key]
            return None
        return entry

    async def retry_after(self, key: str, limit: int) -> int | None:
        entry = self._live(key)
        if entry is None or entry[0] < limit:
            return None
        return max(1, math.ceil(entry[1] - time.monotonic()))

    async def record(self, key: str, window_seconds: int) -> int:
        entry = self._live(key)
        count, expires = entry if entry else (0, time.monotonic() + window_seconds)
        self._counts[key] = (count + 1, expires)
        return count + 1

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)


# INCR and the first EXPIRE must be one step, or a crash between them leaves a key forever.
_RECORD = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisThrottle:
    def __init__(self, client: redis_asyncio.Redis, namespace: str = "ias:throttle:") -> None:
        self._client = client
        self._namespace = namespace
        self._record = client.register_script(_RECORD)

    async def retry_after(self, key: str, limit: int) -> int | None:
        name = self._namespace + key
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        if count is None or int(count) < limit:
            return None
        return max(1, int(ttl))

    async def record(self, key: str, window_seconds: int) -> int:
        return int(await self._record(keys=[self._namespace + key], args=[window_seconds]))

    async def reset(self, key: str) -> None:
        await self._client.delete(self._namespace + key)
