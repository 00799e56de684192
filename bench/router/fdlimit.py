"""Enough file descriptors for a thousand open streams.

Each held stream is a socket in the client, one in the arm and, for a proxy, one more to the
engine, which holds one of its own. Many systems start processes with a soft limit of 1,024
descriptors, well under the hard limit: the benchmark raises its soft limit to the hard one
before it starts the servers (they inherit it), and the load generator raises its own.
"""

from __future__ import annotations

import resource

UNLIMITED = 1 << 20
SPARE = 512  # log files, the database, Redis and RabbitMQ, the load phases' own connections


def needed(streams: int) -> int:
    """Descriptors the busiest process (a proxy: client side plus engine side) may hold."""
    return 2 * streams + SPARE


def raise_soft_limit() -> int:
    """Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return UNLIMITED
    # An unlimited hard limit is not a valid soft limit everywhere: a million is plenty.
    target = UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft
