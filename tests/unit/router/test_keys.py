from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ias.contracts.api_keys import generate_key, hash_key
from ias.contracts.invalidation import FLUSH, Invalidation
from ias.contracts.keys import KeyRecord
from ias.errors import Unauthorized, Unavailable
from ias.router import keys as keys_module
from ias.router.keys import KeyResolver, _bearer

SECRET = "key-hashing-secret-for-tests"
TTL = 60.0
NEGATIVE_TTL = 5.0
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoDatabase:
    """Fails the test on any use: proves a request was settled without I/O."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the database was used ({name})")


class UnreachableSession:
    async def __aenter__(self) -> Any:
        raise OSError("connection refused")

    async def __aexit__(self, *_exc: object) -> None:
        return None


class DownDatabase:
    def __init__(self) -> None:
        self.sessions = 0

    def session(self) -> UnreachableSession:
        self.sessions += 1
        return UnreachableSession()


class FakeStore:
    """Stands in for the database query: key hash → record, counting every lookup."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.records: dict[str, KeyRecord] = {}
        self.fetches: list[str] = []
        self.delay = delay
        self.failure: BaseException | None = None
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    def add(self, key: str, **fields: Any) -> KeyRecord:
        record = key_record(hash_key(key, SECRET), **fields)
        self.records[record.key_hash] = record
        return record

    def revoke(self, key: str) -> None:
        del self.records[hash_key(key, SECRET)]

    async def fetch(self, key_hash: str) -> KeyRecord | None:
        self.fetches.append(key_hash)
        self.started.set()
        found = self.records.get(key_hash)  # the row as the query reads it
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        return found


def key_record(key_hash: str, **fields: Any) -> KeyRecord:
    values: dict[str, Any] = {
        "key_id": uuid.uuid4(),
        "key_hash": key_hash,
        "org_id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "models": None,
        "expires_at": None,
        "rpm_limit": None,
        "tpm_limit": None,
        "org_rpm_limit": None,
        "org_tpm_limit": None,
        "org_monthly_token_quota": None,
        "org_monthly_budget_micros": None,
    }
    values.update(fields)
    return KeyRecord(**values)


def resolver_with(
    store: FakeStore, monkeypatch: pytest.MonkeyPatch, clock: Clock | None = None
) -> KeyResolver:
    db: Any = NoDatabase()
    resolver = KeyResolver(
        db,
        SECRET,
        ttl=TTL,
        negative_ttl=NEGATIVE_TTL,
        clock=clock or Clock(),
    )
    monkeypatch.setattr(resolver, "_fetch", store.fetch)
    return resolver


def bearer(key: str) -> str:
    return f"Bearer {key}"


def hash_of(key: str) -> str:
    return hash_key(key, SECRET)


@pytest.fixture
def wall_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The resolver's idea of now, for expiry; tests move it by assigning `[0]`."""
    now = [T0]
    monkeypatch.setattr(keys_module, "utcnow", lambda: now[0])
    return now


# --- KeyRecord.allows ---------------------------------------------------------------------------


def test_key_without_a_model_list_allows_every_model() -> None:
    record = key_record("h", models=None)
    assert record.allows("any-model")
    assert record.allows("")


def test_key_with_a_model_list_allows_only_those() -> None:
    record = key_record("h", models=frozenset({"llama-8b", "embed"}))
    assert record.allows("llama-8b")
    assert record.allows("embed")
    assert not record.allows("llama-70b")
    assert not record.allows("LLAMA-8B")


def test_key_with_an_empty_model_list_allows_nothing() -> None:
    assert not key_record("h", models=frozenset()).allows("llama-8b")


# --- the Authorization header -------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Bearer {key}", "bearer {key}", "BEARER {key}", "Bearer   {key}  ", "Bearer {key}\t"]
)
def test_bearer_key_is_read_from_the_header(header: str) -> None:
    key = generate_key()
    assert _bearer(header.format(key=key)) == key


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_a_missing_key(header: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        _bearer(header)
    assert caught.value.status == 401
    assert caught.value.code == "missing_api_key"


@pytest.mark.parametrize(
    "header",
    [
        "{key}",
        "Basic {key}",
        "Token {key}",
        "Bearer",
        "Bearer ",
        "Bearer\t{key}",
        "Bearer: {key}",
        "Bearer {key} extra",
        "Bearer {key}x",
        "Bearer {short}",
        "Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123",
        "Bearer {upper}",
    ],
)
def test_malformed_header_is_an_invalid_key(header: str) -> None:
    key = generate_key()
    text = header.format(key=key, short=key[:-1], upper="IAS_" + key[4:])
    with pytest.raises(Unauthorized) as caught:
        _bearer(text)
    assert caught.value.code == "invalid_api_key"


def test_key_with_one_character_changed_is_an_invalid_key() -> None:
    key = generate_key()
    swapped = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    with pytest.raises(Unauthorized):
        _bearer(bearer(swapped))


# --- resolve: no I/O for keys that cannot exist -----------------------------------------------


def no_io_resolver() -> KeyResolver:
    db: Any = NoDatabase()
    return KeyResolver(db, SECRET, ttl=TTL, negative_ttl=NEGATIVE_TTL)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer ias_", "Bearer ias_" + "0" * 38, "Basic dXNlcjpwYXNz", "Bearer garbage"],
)
async def test_malformed_keys_are_refused_without_touching_the_database(
    header: str | None,
) -> None:
    with pytest.raises(Unauthorized):
        await no_io_resolver().resolve(header)


@settings(max_examples=200)
@given(st.none() | st.text(max_size=60) | st.text(max_size=60).map(lambda t: "Bearer ias_" + t))
def test_no_made_up_header_reaches_the_database(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        asyncio.run(no_io_resolver().resolve(header))


async def test_unknown_key_while_the_database_is_down_is_a_503_never_a_200() -> None:
    db = DownDatabase()
    down: Any = db
    resolver = KeyResolver(down, SECRET, ttl=TTL, negative_ttl=NEGATIVE_TTL)
    for attempt in (1, 2):
        with pytest.raises(Unavailable) as caught:
            await resolver.resolve(bearer(generate_key()))
        assert caught.value.status == 503
        assert caught.value.code == "key_store_down"
        assert db.sessions == attempt  # a failure is never cached as "unknown key"


# --- resolve: the cache -----------------------------------------------------------------------


async def test_known_key_resolves_to_its_record(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store = FakeStore()
    key = generate_key()
    record = store.add(key)
    assert await resolver_with(store, monkeypatch).resolve(bearer(key)) == record


async def test_known_key_is_served_from_memory_for_the_ttl(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, clock, key = FakeStore(), Clock(), generate_key()
    store.add(key)
    resolver = resolver_with(store, monkeypatch, clock)
    for _ in range(20):
        await resolver.resolve(bearer(key))
    clock.now += TTL - 0.001
    await resolver.resolve(bearer(key))
    assert len(store.fetches) == 1
    clock.now += 0.001
    await resolver.resolve(bearer(key))
    assert len(store.fetches) == 2


async def test_unknown_key_is_remembered_for_the_negative_ttl(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, clock, key = FakeStore(), Clock(), generate_key()
    resolver = resolver_with(store, monkeypatch, clock)
    for _ in range(20):
        with pytest.raises(Unauthorized) as caught:
            await resolver.resolve(bearer(key))
        assert caught.value.code == "invalid_api_key"
    clock.now += NEGATIVE_TTL - 0.001
    with pytest.raises(Unauthorized):
        await resolver.resolve(bearer(key))
    assert store.fetches == [hash_of(key)]

    store.add(key)  # created meanwhile: works once the negative entry has expired
    clock.now += 0.001
    await resolver.resolve(bearer(key))
    assert len(store.fetches) == 2


async def test_fifty_concurrent_misses_for_one_unknown_key_cause_one_lookup(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(delay=0.01), generate_key()
    resolver = resolver_with(store, monkeypatch)
    results = await asyncio.gather(
        *(resolver.resolve(bearer(key)) for _ in range(50)), return_exceptions=True
    )
    assert len(store.fetches) == 1
    assert all(isinstance(result, Unauthorized) for result in results)


async def test_fifty_concurrent_misses_for_one_known_key_share_one_lookup(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(delay=0.01), generate_key()
    record = store.add(key)
    resolver = resolver_with(store, monkeypatch)
    results = await asyncio.gather(*(resolver.resolve(bearer(key)) for _ in range(50)))
    assert len(store.fetches) == 1
    assert all(result == record for result in results)


async def test_concurrent_misses_share_a_failed_lookup_and_the_next_one_retries(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(delay=0.01), generate_key()
    record = store.add(key)
    store.failure = Unavailable("down", code="key_store_down")
    resolver = resolver_with(store, monkeypatch)
    results = await asyncio.gather(
        *(resolver.resolve(bearer(key)) for _ in range(50)), return_exceptions=True
    )
    assert len(store.fetches) == 1
    assert all(isinstance(result, Unavailable) for result in results)

    store.failure = None
    assert await resolver.resolve(bearer(key)) == record
    assert len(store.fetches) == 2


async def test_cached_key_keeps_working_while_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, clock, key = FakeStore(), Clock(), generate_key()
    record = store.add(key)
    resolver = resolver_with(store, monkeypatch, clock)
    await resolver.resolve(bearer(key))
    store.failure = Unavailable("down")
    clock.now += TTL / 2
    assert await resolver.resolve(bearer(key)) == record


async def test_different_keys_are_cached_apart(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, first, second = FakeStore(), generate_key(), generate_key()
    a, b = store.add(first), store.add(second)
    resolver = resolver_with(store, monkeypatch)
    assert await resolver.resolve(bearer(first)) == a
    assert await resolver.resolve(bearer(second)) == b
    assert await resolver.resolve(bearer(first)) == a
    assert sorted(store.fetches) == sorted([hash_of(first), hash_of(second)])


# --- resolve: invalidation --------------------------------------------------------------------


async def test_revoked_key_stops_working_as_soon_as_its_hash_is_invalidated(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, revoked, kept = FakeStore(), generate_key(), generate_key()
    store.add(revoked)
    store.add(kept)
    resolver = resolver_with(store, monkeypatch)
    await resolver.resolve(bearer(revoked))
    await resolver.resolve(bearer(kept))

    store.revoke(revoked)
    resolver.invalidate(Invalidation(key_hashes=(hash_of(revoked),)).encode())

    with pytest.raises(Unauthorized):
        await resolver.resolve(bearer(revoked))
    await resolver.resolve(bearer(kept))
    assert store.fetches.count(hash_of(revoked)) == 2
    assert store.fetches.count(hash_of(kept)) == 1


async def test_invalidation_also_clears_a_negative_entry(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    resolver = resolver_with(store, monkeypatch)
    with pytest.raises(Unauthorized):
        await resolver.resolve(bearer(key))
    store.add(key)
    resolver.invalidate(Invalidation(key_hashes=(hash_of(key),)).encode())
    await resolver.resolve(bearer(key))


@pytest.mark.parametrize("message", [FLUSH.encode(), b"not json", b"[1]", b'"x"'])
async def test_flush_and_unreadable_messages_drop_every_cached_key(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime], message: bytes
) -> None:
    store = FakeStore()
    keys = [generate_key() for _ in range(3)]
    for key in keys:
        store.add(key)
    resolver = resolver_with(store, monkeypatch)
    for key in keys:
        await resolver.resolve(bearer(key))
    resolver.invalidate(message)
    for key in keys:
        await resolver.resolve(bearer(key))
    assert len(store.fetches) == 6


async def test_invalidating_an_unknown_hash_is_harmless(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    store.add(key)
    resolver = resolver_with(store, monkeypatch)
    await resolver.resolve(bearer(key))
    resolver.invalidate(Invalidation(key_hashes=("0" * 64,)).encode())
    await resolver.resolve(bearer(key))
    assert len(store.fetches) == 1


async def test_invalidation_during_a_lookup_is_not_lost(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    store.add(key)
    store.gate = asyncio.Event()
    resolver = resolver_with(store, monkeypatch)
    lookup = asyncio.ensure_future(resolver.resolve(bearer(key)))
    await store.started.wait()
    # The lookup has read the row; the key is revoked and the notice arrives before it ends.
    store.revoke(key)
    resolver.invalidate(Invalidation(key_hashes=(hash_of(key),)).encode())
    store.gate.set()
    await lookup  # began before the revocation: may still succeed
    with pytest.raises(Unauthorized):
        await resolver.resolve(bearer(key))


# --- resolve: expiry ----------------------------------------------------------------------------


async def test_expiry_is_checked_on_every_request_not_only_on_lookup(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    record = store.add(key, expires_at=T0 + timedelta(seconds=10))
    resolver = resolver_with(store, monkeypatch)
    assert await resolver.resolve(bearer(key)) == record
    wall_clock[0] = T0 + timedelta(seconds=9, microseconds=999_999)
    assert await resolver.resolve(bearer(key)) == record
    wall_clock[0] = T0 + timedelta(seconds=10)
    with pytest.raises(Unauthorized) as caught:
        await resolver.resolve(bearer(key))
    assert caught.value.code == "expired_api_key"
    assert len(store.fetches) == 1  # refused from the cached entry


async def test_key_that_expired_before_the_lookup_is_refused(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    store.add(key, expires_at=T0 - timedelta(days=1))
    with pytest.raises(Unauthorized) as caught:
        await resolver_with(store, monkeypatch).resolve(bearer(key))
    assert caught.value.code == "expired_api_key"


# --- single flight and cancellation -------------------------------------------------------------


async def test_waiters_survive_the_cancellation_of_the_request_that_started_the_lookup(
    monkeypatch: pytest.MonkeyPatch, wall_clock: list[datetime]
) -> None:
    store, key = FakeStore(), generate_key()
    record = store.add(key)
    store.gate = asyncio.Event()
    resolver = resolver_with(store, monkeypatch)
    leader = asyncio.ensure_future(resolver.resolve(bearer(key)))
    await store.started.wait()
    waiters = [asyncio.ensure_future(resolver.resolve(bearer(key))) for _ in range(5)]
    await asyncio.sleep(0)
    leader.cancel()
    await asyncio.sleep(0)
    store.gate.set()
    async with asyncio.timeout(5):
        results = await asyncio.gather(*waiters, return_exceptions=True)
    assert results == [record] * 5
