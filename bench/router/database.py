"""A throwaway PostgreSQL database for one run: created, migrated, seeded, then dropped.

Seeded with the project's own models, as an operator would have it: one org, one member, one
chat model with one backend (the mock engine) and one API key for the load generators.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import asyncpg

from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.models import ApiKey, Backend, Membership, ModelEntry, ModelKind, Org, OrgRole, User

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


async def _seed(url: str, api_key_secret: str, model: str, engine_url: str) -> str:
    db = Database.from_url(url)
    now = utcnow()
    key = generate_key()
    tag = secrets.token_hex(4)
    org = Org(id=uuid7(), name="Bench", slug=f"bench-{tag}", created_at=now, updated_at=now)
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
        name=model,
        kind=ModelKind.CHAT,
        upstream_model=model,
        context_length=4096,
        input_price_micros_per_mtok=150_000,
        output_price_micros_per_mtok=600_000,
        created_at=now,
        updated_at=now,
    )
    api_key = ApiKey(
        id=uuid7(),
        org_id=org.id,
        created_by=user.id,
        name="bench",
        prefix=display_prefix(key),
        key_hash=hash_key(key, api_key_secret),
        created_at=now,
    )
    try:
        async with db.unit_of_work() as session:
            for row in (org, user, entry):
                session.add(row)
                await session.flush()
            session.add(
                Membership(org_id=org.id, user_id=user.id, role=OrgRole.MEMBER, created_at=now)
            )
            session.add(
                Backend(id=uuid7(), model_id=entry.id, url=engine_url, weight=1, created_at=now)
            )
            session.add(api_key)
    finally:
        await db.dispose()
    return key


def seed(database: BenchDatabase, api_key_secret: str, model: str, engine_url: str) -> str:
    """Registers `model` served by `engine_url` and returns a fresh API key allowed to use it."""
    return asyncio.run(_seed(database.url, api_key_secret, model, engine_url))
