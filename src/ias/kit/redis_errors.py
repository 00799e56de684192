"""What a call through redis-py raises when Redis is unreachable, slow or the link broke.

Besides redis-py's own errors and socket errors, a write on a pooled connection whose transport
the event loop has already closed raises RuntimeError under uvloop ("the handler is closed"):
redis-py drops that connection, so the next call reconnects, but the caller must treat it as
one more transient failure rather than let it end a background task.
"""

from __future__ import annotations

from redis.exceptions import RedisError

REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (
    RedisError,
    OSError,
    TimeoutError,
    RuntimeError,
)
