"""Cache-invalidation messages the control plane publishes and every router consumes.

Version 1, JSON. A key message names the changed keys by their stored hash (never the key
itself); `flush` tells readers to drop everything cached on the channel, for rare changes
that touch many keys at once (a user disabled, an org's limits changed, an org deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

KEYS_CHANNEL = "api-keys.v1"
MODELS_CHANNEL = "models.v1"


@dataclass(frozen=True, slots=True)
class Invalidation:
    key_hashes: tuple[str, ...] = ()
    flush: bool = False

    def encode(self) -> bytes:
        return orjson.dumps({"v": 1, "key_hashes": list(self.key_hashes), "flush": self.flush})

    @classmethod
    def decode(cls, message: bytes) -> Invalidation:
        """A message this version cannot read is treated as `flush`: safe, never stale."""
        try:
            body = orjson.loads(message)
            hashes = tuple(str(value) for value in body.get("key_hashes", ()))
            return cls(key_hashes=hashes, flush=bool(body.get("flush", False)))
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            return cls(flush=True)


FLUSH = Invalidation(flush=True)
