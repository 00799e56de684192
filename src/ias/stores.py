"""Picks the embedded or the production implementation of each shared store from settings.

Every choice is made here, once, so the rest of the code sees only the interfaces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import redis.asyncio as redis_asyncio

from ias.contracts.usage import decode_batch
from ias.kit.db import Database
from ias.kit.notify import MemoryNotifier, Notifier, RedisNotifier
from ias.kit.throttle import MemoryThrottle, RedisThrottle, Throttle
from ias.limits.memory import MemoryLimiter
from ias.limits.redis_limiter import RedisLimiter, redis_limiter_client
from ias.limits.resilient import ResilientLimiter
from ias.limits.types import Limiter
from ias.router.ledger import Publisher, SpoolSink
from ias.settings import Settings
from ias.usage_baseline import LedgerBaseline

if TYPE_CHECKING:
    from ias.analytics.ledger import Ledger

LEASE_MARGIN_SECONDS = 60.0


def redis_client(settings: Settings) -> redis_asyncio.Redis | None:
    if settings.redis_url is None:
        return None
    return redis_asyncio.Redis.from_url(settings.redis_url, socket_connect_timeout=2)


def build_notifier(settings: Settings, redis: redis_asyncio.Redis | None) -> Notifier:
    if redis is None:
        return MemoryNotifier()
    return RedisNotifier(redis, namespace=settings.redis_key_prefix + "notify:")


def build_throttle(settings: Settings, redis: redis_asyncio.Redis | None) -> Throttle:
    if redis is None:
        return MemoryThrottle()
    return RedisThrottle(redis, namespace=settings.redis_key_prefix + "throttle:")


def build_limiter(settings: Settings, db: Database, replicas: Callable[[], int] | None) -> Limiter:
    """Redis behind the failure policy in production; the in-process limiter embedded."""
    baseline = LedgerBaseline(db)
    # A lease outlives the longest request the router allows, so only a crash leaves one.
    lease_ttl = settings.router.total_timeout_seconds + LEASE_MARGIN_SECONDS
    if settings.redis_url is None:
        return MemoryLimiter(lease_ttl_seconds=lease_ttl, baseline=baseline)
    primary = RedisLimiter(
        redis_limiter_client(settings.redis_url),
        prefix=settings.redis_key_prefix + "limits:",
        lease_ttl_seconds=lease_ttl,
        baseline=baseline,
    )
    return ResilientLimiter(primary, replicas=replicas or (lambda: 1))


class LedgerPublisher:
    """Embedded: a batch counts as published once the in-process ledger has committed it —
    the same consumer code `ias worker usage` runs, fed without a broker."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def publish(self, body: bytes, count: int) -> None:
        await self._ledger.store(decode_batch(body))

    async def close(self) -> None:
        pass


def build_usage_sink(settings: Settings, db: Database) -> SpoolSink:
    """The router's spool, relayed to RabbitMQ in production and to the ledger when embedded."""
    publisher: Publisher
    if settings.rabbitmq_url is not None:
        from ias.router.publisher import RabbitPublisher

        publisher = RabbitPublisher(settings.rabbitmq_url)
    else:
        from ias.analytics.ledger import Ledger

        publisher = LedgerPublisher(Ledger(db))
    directory = settings.router.spool_dir or settings.home / "spool"
    return SpoolSink(directory, publisher, max_bytes=settings.router.spool_max_bytes)
