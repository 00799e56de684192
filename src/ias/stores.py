"""Picks the embedded or the production implementation of each shared store from settings.

Every choice is made here, once, so the rest of the code sees only the interfaces.
"""

from __future__ import annotations

import redis.asyncio as redis_asyncio

from ias.kit.notify import MemoryNotifier, Notifier, RedisNotifier
from ias.kit.throttle import MemoryThrottle, RedisThrottle, Throttle
from ias.settings import Settings


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
