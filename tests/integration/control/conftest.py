"""A migrated PostgreSQL database, the control app on it, and a world of users in every role.

The database is created and migrated once per test session; every test builds its own fresh
`World` (new users and orgs with unique emails) so tests never see each other's objects.
Tokens are minted directly (login has tests of its own), which keeps hundreds of matrix cases
fast: an argon2 verification per user per case would dominate the run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ias.app import create_app
from ias.control.context import ControlContext
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.kit.passwords import hash_password
from ias.migrations import runner
from ias.models import Membership, Org, OrgRole, RefreshSession, User
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.asgi import framework_app, lifespan
from tests.conftest import POSTGRES_ADMIN_DSN, REDIS_URL

PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "member", "admin", "owner")


async def _create_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def control_database_url() -> Iterator[str]:
    name = f"ias_control_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(runner.upgrade(url))
    yield url
    asyncio.run(_drop_database(name))


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def control_settings(
    control_database_url: str, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> Settings:
    return resolve_secrets(
        Settings(
            home=tmp_path / "home",
            database_url=control_database_url,
            redis_url=REDIS_URL,
            # Each test its own Redis namespace: throttle counts and notifications stay apart.
            redis_key_prefix=f"test-{uuid.uuid4().hex[:12]}:",
        )
    )


@pytest.fixture
async def control_app(control_settings: Settings) -> AsyncIterator[Any]:
    app = create_app(control_settings, "control")
    async with lifespan(app):
        yield app


@pytest.fixture
async def client(control_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=control_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client


def control_context(app: Any) -> ControlContext:
    for route in framework_app(app).routes:
        inner = getattr(route, "app", None)
        api = getattr(inner, "app", None)
        if api is not None and hasattr(api.state, "control"):
            context: ControlContext = api.state.control
            return context
    raise AssertionError("the app serves no control plane")


@dataclass
class Person:
    id: uuid.UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Org A with one user per role, org B with its own owner, a super admin, and a stranger."""

    org: uuid.UUID
    other_org: uuid.UUID
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, who: str) -> Person:
        return self.people[who]


class WorldBuilder:
    def __init__(self, context: ControlContext, password_hash: str) -> None:
        self.context = context
        self.password_hash = password_hash
        self.tag = uuid.uuid4().hex[:8]

    async def person(
        self,
        who: str,
        *,
        super_admin: bool = False,
        memberships: dict[uuid.UUID, str] | None = None,
    ) -> Person:
        now = utcnow()
        user = User(
            id=uuid7(),
            email=f"{who}-{self.tag}@example.com",
            password_hash=self.password_hash,
            name=who.title(),
            disabled=False,
            is_super_admin=super_admin,
            created_at=now,
            updated_at=now,
        )
        family = uuid7()
        async with self.context.db.unit_of_work() as session:
            session.add(user)
            await session.flush()
            for org_id, role in (memberships or {}).items():
                session.add(
                    Membership(org_id=org_id, user_id=user.id, role=OrgRole(role), created_at=now)
                )
            session.add(
                RefreshSession(
                    id=uuid7(),
                    user_id=user.id,
                    family_id=family,
                    token_hash=uuid.uuid4().hex,
                    created_at=now,
                    expires_at=now + timedelta(days=1),
                )
            )
        token, _ = self.context.tokens.issue(str(user.id), str(family), now)
        return Person(user.id, user.email, token)

    async def org(self, name: str) -> uuid.UUID:
        now = utcnow()
        org = Org(
            id=uuid7(),
            name=name,
            slug=f"{name.lower()}-{uuid.uuid4().hex[:10]}",
            created_at=now,
            updated_at=now,
        )
        async with self.context.db.unit_of_work() as session:
            session.add(org)
        return org.id

    async def world(self) -> World:
        org, other_org = await self.org("Acme"), await self.org("Globex")
        world = World(org=org, other_org=other_org)
        for role in ROLES:
            world.people[role] = await self.person(role, memberships={org: role})
        world.people["other_owner"] = await self.person("other", memberships={other_org: "owner"})
        world.people["super_admin"] = await self.person("root", super_admin=True)
        world.people["stranger"] = await self.person("stranger")
        return world


@pytest.fixture
def builder(control_app: Any, password_hash: str) -> WorldBuilder:
    return WorldBuilder(control_context(control_app), password_hash)


@pytest.fixture
async def world(builder: WorldBuilder) -> World:
    return await builder.world()


@dataclass
class Heard:
    """What the control plane published, as a second process subscribed to Redis would hear it."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)

    def on(self, channel: str) -> list[bytes]:
        return [message for name, message in self.messages if name == channel]


@pytest.fixture
async def heard(control_settings: Settings) -> AsyncIterator[Heard]:
    from ias.contracts.invalidation import KEYS_CHANNEL, MODELS_CHANNEL
    from ias.stores import build_notifier, redis_client

    redis = redis_client(control_settings)
    notifier = build_notifier(control_settings, redis)
    record = Heard()
    for channel in (KEYS_CHANNEL, MODELS_CHANNEL):
        notifier.subscribe(channel, lambda message, c=channel: record.messages.append((c, message)))
    await notifier.start()
    yield record
    await notifier.close()
    if redis is not None:
        await redis.aclose()
