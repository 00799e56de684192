"""Everything the router's handlers share, built by the composition root."""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from dataclasses import dataclass, field

import aiohttp

from ias.contracts.usage import UsageSink
from ias.limits.types import Limiter
from ias.router.admission import LimitsCache
from ias.router.catalog import ModelCatalog
from ias.router.keys import KeyResolver
from ias.router.last_used import LastUsed
from ias.router.upstream import Timeouts


@dataclass(slots=True)
class RouterState:
    keys: KeyResolver
    catalog: ModelCatalog
    limiter: Limiter
    sink: UsageSink
    last_used: LastUsed
    timeouts: Timeouts
    max_body_bytes: int
    body_read_seconds: float
    salt_secret: bytes
    session: aiohttp.ClientSession | None = None
    rng: random.Random = field(default_factory=random.Random)
    limits: LimitsCache = field(default_factory=LimitsCache)
    _salts: dict[uuid.UUID, str] = field(default_factory=dict)

    def http(self) -> aiohttp.ClientSession:
        if self.session is None:
            raise RuntimeError("the router's HTTP client is opened in the app's lifespan")
        return self.session

    def cache_salt(self, org_id: uuid.UUID) -> str:
        """vLLM's prefix-cache salt for an org: keyed, so no client can guess another org's."""
        salt = self._salts.get(org_id)
        if salt is None:
            digest = hmac.new(self.salt_secret, org_id.bytes, hashlib.sha256).hexdigest()
            salt = self._salts[org_id] = digest[:32]
        return salt
