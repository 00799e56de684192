"""Reachability checks for the stores a process depends on (used by `/ready`).

Callers bound the total time with `asyncio.timeout`; the connect timeouts here only keep a
dead host from holding a socket open longer than that.
"""

from __future__ import annotations

import redis.asyncio as redis_asyncio

CONNECT_TIMEOUT_SECONDS = 2.0


async def ping_redis(url: str) -> None:
    client = redis_asyncio.Redis.from_url(
        url,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )
    try:
        await client.ping()
    finally:
        await client.aclose()


async def ping_amqp(url: str) -> None:
    import aio_pika  # only processes that talk to the broker pay for importing it

    connection = await aio_pika.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    await connection.close()
