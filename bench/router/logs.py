"""What the router's log says about its limiter: each fallback from Redis to memory.

The router logs `limits store unreachable (<error>); limiting locally` (at WARNING) each time a
limiter call to Redis fails or runs over its 50 ms budget while the limiter was still using
Redis. From then on it limits from memory until a call to Redis answers again (it probes once a
second), so a fallback means some requests of the limits arm were measured without Redis.
"""

from __future__ import annotations

import re
from collections import Counter

FALLBACK = re.compile(r"limits store unreachable \((.*?)\); limiting locally")


def fallback_causes(log: str) -> Counter[str]:
    """The limiter's fallbacks in a router log, counted by the error (its repr) behind each."""
    return Counter(match.group(1)[:120] for match in FALLBACK.finditer(log))
