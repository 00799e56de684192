"""A throwaway PostgreSQL database for one run: created, migrated, seeded, then dropped.

Seeded with the project's own models, as an operator would have it: one chat model with one
backend (the mock engine), one member, and two orgs with one API key each: one org and key
without limits, and one whose org, key and per-model org rows carry every limit, set too high
ever to refuse (`LIMITS`), so that each of its requests pays the full cost of limiting.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.router.config import LIMITS, MODEL, GenerousLimits
from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.models import (
    ApiKey,
    Backend,
    Membership,
    ModelEntry,
    ModelKind,
    Org,
    OrgModelLimit,
    OrgRole,
    User,
)

POSTGRES = "127.0.0.1:5432"
ADMIN_DSN = f"postgresql://postgres@{POSTGRES}/postgres"


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    name: str

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@{POSTGRES}/{self.name}"


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database() -> BenchDatabase:
    database = BenchDatabase(f"ias_bench_{secrets.token_hex(5)}")
    asyncio.run(_admin(f'CREATE DATABASE "{database.name}"'))
    return database


def drop_database(database: BenchDatabase) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))


@dataclass(frozen=True, slots=True)
class Keys:
    plain: str  # its key and org carry no limit
    limited: str  # its key, org and per-model org rows carry every limit (`LIMITS`)


def _tenant(
    name: str, user: User, api_key_secret: str, limits: GenerousLimits | None
) -> tuple[str, list[Any]]:
    """An org the user belongs to and one API key in it: (the key, rows in insertion order)."""
    now = utcnow()
    key = generate_key()
    org = Org(
        id=uuid7(),
        name=name,
        slug=f"{name.lower()}-{secrets.token_hex(4)}",
        created_at=now,
        updated_at=now,
    )
    api_key = ApiKey(
        id=uuid7(),
        org_id=org.id,
        created_by=user.id,
        name=name.lower(),
        prefix=display_prefix(key),
        key_hash=hash_key(key, api_key_secret),
        created_at=now,
    )
    rows: list[Any] = [org]
    if limits is not None:
        org.rpm_limit, org.tpm_limit = limits.rpm, limits.tpm
        org.concurrency_limit = limits.concurrency
        org.monthly_token_quota = limits.monthly_tokens
        org.monthly_budget_micros = limits.monthly_budget_micros
        api_key.rpm_limit, api_key.tpm_limit = limits.rpm, limits.tpm
        api_key.concurrency_limit = limits.concurrency
        rows.append(
            OrgModelLimit(org_id=org.id, model=MODEL, rpm_limit=limits.rpm, tpm_limit=limits.tpm)
        )
    rows += [
        Membership(org_id=org.id, user_id=user.id, role=OrgRole.MEMBER, created_at=now),
        api_key,
    ]
    return key, rows


async def _seed(url: str, api_key_secret: str, engine_url: str) -> Keys:
    db = Database.from_url(url)
    now = utcnow()
    tag = secrets.token_hex(4)
    user = User(
        id=uuid7(),
        email=f"bench-{tag}@example.com",
        password_hash=secrets.token_hex(16),  # not an argon2 hash: this user cannot log in
        name="Bench",
        created_at=now,
        updated_at=now,
    )
    entry = ModelEntry(
        id=uuid7(),
        name=MODEL,
        kind=ModelKind.CHAT,
        upstream_model=MODEL,
        context_length=4096,
        input_price_micros_per_mtok=150_000,
        output_price_micros_per_mtok=600_000,
        created_at=now,
        updated_at=now,
    )
    backend = Backend(id=uuid7(), model_id=entry.id, url=engine_url, weight=1, created_at=now)
    plain, plain_rows = _tenant("Bench", user, api_key_secret, None)
    limited, limited_rows = _tenant("Limited", user, api_key_secret, LIMITS)
    try:
        async with db.unit_of_work() as session:
            # One flush per row: the foreign keys between them need the order kept.
            for row in (user, entry, backend, *plain_rows, *limited_rows):
                session.add(row)
                await session.flush()
    finally:
        await db.dispose()
    return Keys(plain, limited)


def seed(database: BenchDatabase, api_key_secret: str, engine_url: str) -> Keys:
    """Registers the benchmark's model served by `engine_url`; returns two keys allowed to use
    it, in two orgs: one without limits and one with every limit on (`LIMITS`)."""
    return asyncio.run(_seed(database.url, api_key_secret, engine_url))
