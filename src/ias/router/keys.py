"""API key resolution for the hot path: a bounded in-process cache in front of the database.

* A malformed key (prefix, length, alphabet, checksum) is refused before any I/O.
* Hits are served from memory: positive entries live `ttl` seconds, negative ones (unknown,
  revoked, orphaned keys) `negative_ttl`; concurrent misses for one key share one query.
* Invalidations pushed by the control plane evict a key by its hash, or flush everything;
  the TTL bounds staleness if a message is ever lost.
* If the database is unreachable, cached keys keep working and unknown keys get 503, never 200.
* Expiry is checked on every request, not only when the entry is loaded.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Select, select
from sqlalchemy.exc import SQLAlchemyError

from ias.contracts.api_keys import hash_key, is_well_formed
from ias.contracts.invalidation import Invalidation
from ias.contracts.keys import KeyRecord
from ias.errors import Unauthorized, Unavailable
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import ApiKey, Membership, Org, OrgModelLimit, OrgRole, User

MAX_ENTRIES = 100_000
_KEY_ROLES = (OrgRole.MEMBER, OrgRole.ADMIN, OrgRole.OWNER)
INVALID_KEY = (
    "Incorrect API key provided. You can find your API keys in the IAS portal "
    "(or create one with POST /api/orgs/{org_id}/api-keys)."
)


def _refused(code: str = "invalid_api_key", message: str = INVALID_KEY) -> Unauthorized:
    return Unauthorized(message, code=code)


class KeyResolver:
    def __init__(
        self,
        db: Database,
        secret: str,
        *,
        ttl: float,
        negative_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._secret = secret
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._clock = clock
        self._cache: OrderedDict[str, tuple[KeyRecord | None, float]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[KeyRecord | None]] = {}
        self._generation = 0
        self._hashes: dict[str, str] = {}

    async def resolve(self, authorization: str | None) -> KeyRecord:
        key_hash = self._hash_of(authorization)
        entry = self._cache.get(key_hash)
        if entry is not None and entry[1] > self._clock():
            record = entry[0]
        else:
            record = await self._load_once(key_hash)
        if record is None:
            raise _refused()
        if record.expires_at is not None and record.expires_at <= utcnow():
            raise _refused("expired_api_key", "This API key has expired; create a new one.")
        return record

    def _hash_of(self, authorization: str | None) -> str:
        """The key's stored hash; checksum and HMAC are computed once per distinct header.

        Only well-formed keys are remembered, so a flood of made-up keys costs a checksum each
        and never grows this map.
        """
        key_hash = self._hashes.get(authorization) if authorization else None
        if key_hash is None:
            key_hash = hash_key(_bearer(authorization), self._secret)
            if len(self._hashes) >= MAX_ENTRIES:
                self._hashes.clear()
            self._hashes[str(authorization)] = key_hash
        return key_hash

    def invalidate(self, message: bytes) -> None:
        """Notifier handler for the key channel."""
        notice = Invalidation.decode(message)
        # Lookups in flight may have read the old row: they must not cache what they found.
        self._generation += 1
        if notice.flush:
            self._cache.clear()
            self._loading.clear()
        for key_hash in notice.key_hashes:
            self._cache.pop(key_hash, None)
            self._loading.pop(key_hash, None)

    async def _load_once(self, key_hash: str) -> KeyRecord | None:
        """One database lookup per key at a time, shared by every request that needs it.

        The lookup runs as its own task, so a request that is cancelled (its client left)
        does not cancel it for the others waiting on the same key.
        """
        task = self._loading.get(key_hash)
        if task is None:
            task = asyncio.ensure_future(self._fetch_and_store(key_hash, self._generation))
            self._loading[key_hash] = task
            task.add_done_callback(lambda done: self._forget(key_hash, done))
        return await asyncio.shield(task)

    def _forget(self, key_hash: str, task: asyncio.Future[KeyRecord | None]) -> None:
        if self._loading.get(key_hash) is task:
            del self._loading[key_hash]
        if not task.cancelled():
            task.exception()  # retrieved: waiters re-raise it, nobody else must log it

    async def _fetch_and_store(self, key_hash: str, generation: int) -> KeyRecord | None:
        record = await self._fetch(key_hash)
        if generation == self._generation:
            self._store(key_hash, record)
        return record

    def _store(self, key_hash: str, record: KeyRecord | None) -> None:
        ttl = self._ttl if record is not None else self._negative_ttl
        self._cache[key_hash] = (record, self._clock() + ttl)
        self._cache.move_to_end(key_hash)
        while len(self._cache) > MAX_ENTRIES:
            self._cache.popitem(last=False)

    async def _fetch(self, key_hash: str) -> KeyRecord | None:
        try:
            async with self._db.session() as session:
                row = (await session.execute(_key_query(key_hash))).first()
                if row is None:
                    return None
                limits = (await session.scalars(_model_limits_query(row[1].id))).all()
        except (SQLAlchemyError, OSError) as exc:
            raise Unavailable(
                "API keys cannot be checked right now; retry shortly.", code="key_store_down"
            ) from exc
        key, org, user, role = row
        # A key never outlives its creator's right to hold one.
        if user.disabled or (role not in _KEY_ROLES and not user.is_super_admin):
            return None
        return KeyRecord(
            key_id=key.id,
            key_hash=key_hash,
            org_id=org.id,
            user_id=user.id,
            models=frozenset(key.models) if key.models is not None else None,
            expires_at=key.expires_at,
            rpm_limit=key.rpm_limit,
            tpm_limit=key.tpm_limit,
            org_rpm_limit=org.rpm_limit,
            org_tpm_limit=org.tpm_limit,
            org_monthly_token_quota=org.monthly_token_quota,
            org_monthly_budget_micros=org.monthly_budget_micros,
            concurrency_limit=key.concurrency_limit,
            org_concurrency_limit=org.concurrency_limit,
            model_limits=tuple((m.model, m.rpm_limit, m.tpm_limit) for m in limits),
        )


def _key_query(key_hash: str) -> Select[ApiKey, Org, User, OrgRole]:
    return (
        select(ApiKey, Org, User, Membership.role)
        .join(Org, Org.id == ApiKey.org_id)
        .join(User, User.id == ApiKey.created_by)
        .outerjoin(
            Membership,
            (Membership.org_id == ApiKey.org_id) & (Membership.user_id == ApiKey.created_by),
        )
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )


def _model_limits_query(org_id: uuid.UUID) -> Select[OrgModelLimit]:
    return select(OrgModelLimit).where(OrgModelLimit.org_id == org_id)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise _refused(
            "missing_api_key",
            "You didn't provide an API key. Send it as 'Authorization: Bearer ias_...'.",
        )
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not is_well_formed(key):
        raise _refused()
    return key
