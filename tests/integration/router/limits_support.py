"""Helpers for the limits tests: tenants with limits, control-plane tokens, clock windows,
and a read-only view of the shared counters.

Every tenant is a fresh org, user and key, so each scenario counts against its own scopes
however many others share the router, the engine and Redis with it.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson

from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.contracts.usage import UsageEvent
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.limits.redis_limiter import RedisLimiter, redis_limiter_client
from ias.limits.types import Kind
from ias.models import ApiKey, Membership, Org, OrgModelLimit, OrgRole, User
from ias.router.usage import MemoryUsageSink
from ias.settings import Settings
from tests.conftest import REDIS_URL
from tests.integration.router.conftest import CHAT_MODEL, Tenant
from tests.tokens import access_token as mint_token

WINDOW_SECONDS = 60
# OpenAI (Go time.Duration) style: "1s", "59.5s", "1m0s", "20ms".
RESET_FORMAT = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d{1,3})?)s|(\d+)ms)$")


async def add_tenant(
    database_url: str,
    secret: str,
    *,
    org: Mapping[str, int | None] | None = None,
    key: Mapping[str, int | None] | None = None,
    models: Mapping[str, tuple[int | None, int | None]] | None = None,
    super_admin: bool = False,
) -> Tenant:
    """A new org, member and API key; `org`/`key` set limit columns, `models` (rpm, tpm) rows."""
    db = Database.from_url(database_url)
    now = utcnow()
    plain = generate_key()
    tag = uuid.uuid4().hex[:8]
    org_row = Org(
        id=uuid7(),
        name=f"Org {tag}",
        slug=f"org-{tag}",
        created_at=now,
        updated_at=now,
        **org or {},
    )
    user = User(
        id=uuid7(),
        email=f"limits-{tag}@example.com",
        password_hash="x",
        name="Limits",
        is_super_admin=super_admin,
        created_at=now,
        updated_at=now,
    )
    api_key = ApiKey(
        id=uuid7(),
        org_id=org_row.id,
        created_by=user.id,
        name="limits",
        prefix=display_prefix(plain),
        key_hash=hash_key(plain, secret),
        created_at=now,
        **key or {},
    )
    try:
        async with db.unit_of_work() as session:
            for row in (org_row, user):
                session.add(row)
                await session.flush()
            session.add(
                Membership(org_id=org_row.id, user_id=user.id, role=OrgRole.MEMBER, created_at=now)
            )
            for name, (rpm, tpm) in (models or {}).items():
                session.add(
                    OrgModelLimit(org_id=org_row.id, model=name, rpm_limit=rpm, tpm_limit=tpm)
                )
            session.add(api_key)
    finally:
        await db.dispose()
    return Tenant(org_row.id, user.id, plain, api_key.id)


async def access_token(settings: Settings, tenant: Tenant) -> str:
    """A control-plane bearer token for the tenant's user."""
    return await mint_token(settings, tenant.user_id)


async def room_in_window(seconds: float = 15.0) -> None:
    """Return once at least `seconds` remain in the current clock-aligned minute."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < seconds:
        await asyncio.sleep(left + 0.05)


def reset_seconds(value: str) -> float:
    """An OpenAI-style reset duration in seconds; AssertionError when malformed."""
    match = RESET_FORMAT.match(value)
    assert match is not None, f"not an OpenAI reset duration: {value!r}"
    hours, minutes, seconds, millis = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return total + int(millis or 0) / 1000


def chat_body(content: str = "Tell me about rivers.", **extra: Any) -> bytes:
    """A chat request as exact bytes, so tests know what the router reserves for it."""
    return orjson.dumps(
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": content}], **extra}
    )


async def post(
    client: httpx.AsyncClient,
    base: str,
    tenant: Tenant,
    body: bytes,
    path: str = "chat/completions",
) -> httpx.Response:
    return await client.post(
        f"{base}/v1/{path}",
        content=body,
        headers={"authorization": f"Bearer {tenant.key}", "content-type": "application/json"},
    )


def events_of(sink: MemoryUsageSink, tenant: Tenant) -> list[UsageEvent]:
    return [event for event in list(sink.events) if event.api_key_id == tenant.key_id]


async def wait_for_events(
    sink: MemoryUsageSink, tenant: Tenant, count: int, within: float = 3.0
) -> list[UsageEvent]:
    """The tenant's events once there are `count`, checked to stay at `count` a moment later."""
    deadline = time.monotonic() + within
    while len(events_of(sink, tenant)) < count:
        assert time.monotonic() < deadline, (
            f"expected {count} usage events, saw {len(events_of(sink, tenant))}"
        )
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # an extra event for the same requests would show up here
    events = events_of(sink, tenant)
    assert len(events) == count, f"expected exactly {count} usage events, got {len(events)}"
    return events


class Counters:
    """The shared limit counters of one router set, read the way the routers read them."""

    def __init__(self, limiter: RedisLimiter) -> None:
        self._limiter = limiter

    async def read(self, scope: str) -> dict[Kind, int]:
        return await self._limiter.consumption(scope)

    async def reach(self, scope: str, kind: Kind, value: int, within: float = 3.0) -> int:
        """`kind`'s count once it reads `value`, or what it reads after `within` seconds
        (settlements land just after the response has ended)."""
        deadline = time.monotonic() + within
        while True:
            seen = (await self.read(scope))[kind]
            if seen == value or time.monotonic() > deadline:
                return seen
            await asyncio.sleep(0.01)

    async def wait_for(self, scope: str, kind: Kind, value: int, within: float = 3.0) -> None:
        seen = await self.reach(scope, kind, value, within)
        assert seen == value, f"{scope} {kind} stayed at {seen}, not {value}"


@asynccontextmanager
async def counters(settings: Settings) -> AsyncIterator[Counters]:
    limiter = RedisLimiter(
        redis_limiter_client(REDIS_URL, timeout_seconds=2.0),
        prefix=settings.redis_key_prefix + "limits:",
    )
    try:
        yield Counters(limiter)
    finally:
        await limiter.close()
