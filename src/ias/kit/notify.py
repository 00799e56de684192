"""Fan-out of small invalidation messages to every process (key revoked, model changed).

`RedisNotifier` uses Redis pub/sub so every replica hears every message; `MemoryNotifier`
delivers within one process, for the embedded mode. Delivery is at-most-once in both: readers
must also expire what they cache, so a message lost during a reconnect heals by TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis_asyncio

from ias.kit.redis_errors import REDIS_UNAVAILABLE

logger = logging.getLogger("ias.notify")

Handler = Callable[[bytes], None]
RECONNECT_DELAY_SECONDS = 0.5
# A notification must not hold up the request that committed the change it announces.
PUBLISH_SECONDS = 1.0


class Notifier(Protocol):
    def subscribe(self, channel: str, handler: Handler) -> None: ...

    async def publish(self, channel: str, message: bytes) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class MemoryNotifier:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel].append(handler)

    async def publish(self, channel: str, message: bytes) -> None:
        for handler in self._handlers.get(channel, ()):
            _deliver(handler, channel, message)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()


def _deliver(handler: Handler, channel: str, message: bytes) -> None:
    try:
        handler(message)
    except Exception:
        logger.exception("notification handler failed on %s", channel)


class RedisNotifier:
    def __init__(self, client: redis_asyncio.Redis, namespace: str = "ias:notify:") -> None:
        self._client = client
        self._namespace = namespace
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def subscribe(self, channel: str, handler: Handler) -> None:
        if self._task is not None:
            raise RuntimeError("subscribe before start()")
        self._handlers[self._namespace + channel].append(handler)

    async def publish(self, channel: str, message: bytes) -> None:
        """Publish, once more on a fresh connection if the pooled one broke; if Redis is still
        unreachable, log and return: the change is committed, and readers heal by TTL."""
        try:
            await self._publish(channel, message)
        except REDIS_UNAVAILABLE:
            with contextlib.suppress(Exception):
                await self._client.connection_pool.disconnect()
            try:
                await self._publish(channel, message)
            except REDIS_UNAVAILABLE as exc:
                logger.warning(
                    "could not publish to %s (%s); readers pick the change up when their "
                    "cache expires",
                    channel,
                    type(exc).__name__,
                )

    async def _publish(self, channel: str, message: bytes) -> None:
        await asyncio.wait_for(
            self._client.publish(self._namespace + channel, message), PUBLISH_SECONDS
        )

    async def start(self) -> None:
        if self._handlers and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="redis-notifier")
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except REDIS_UNAVAILABLE as exc:
                logger.warning("notification channel lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)

    async def _listen_once(self) -> None:
        async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(*self._handlers)
            self._subscribed.set()
            async for message in pubsub.listen():
                channel = message["channel"]
                name = channel.decode() if isinstance(channel, bytes) else channel
                for handler in self._handlers.get(name, ()):
                    _deliver(handler, name, message["data"])
