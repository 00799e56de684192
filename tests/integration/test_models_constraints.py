"""What the schema itself guarantees, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError

from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.models import ApiKey, Membership, Org, OrgRole, UsageEvent, User


def _user(email: str) -> User:
    return User(email=email, password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", name="A")


async def test_email_is_unique_whatever_its_case(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add(_user("Alice@Example.com"))

    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as session:
            session.add(_user("alice@example.COM"))

    async with database.session() as session:
        found = await session.scalars(sa.select(User).where(User.email_is("ALICE@EXAMPLE.COM")))
        assert [user.email for user in found] == ["Alice@Example.com"]


async def test_timestamps_come_back_as_the_same_utc_instant(database: Database) -> None:
    written = datetime(2026, 3, 1, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with database.unit_of_work() as session:
        user = _user("tz@example.com")
        user.created_at = written
        session.add(user)

    async with database.session() as session:
        read = await session.scalar(sa.select(User.created_at).where(User.id == user.id))

    assert read == written
    assert read is not None
    assert read.tzinfo == UTC
    assert read.isoformat() == "2026-02-28T23:30:15.123456+00:00"


async def test_naive_timestamps_are_refused(database: Database) -> None:
    async with database.session() as session:
        user = _user("naive@example.com")
        user.created_at = datetime(2026, 1, 1)
        session.add(user)
        with pytest.raises(StatementError, match="naive datetime"):
            await session.flush()


async def test_deleting_an_org_removes_its_memberships_and_keys(database: Database) -> None:
    async with database.unit_of_work() as session:
        user, org = _user("owner@example.com"), Org(name="Acme", slug="acme")
        session.add_all([user, org])
        await session.flush()
        session.add(Membership(org_id=org.id, user_id=user.id, role=OrgRole.OWNER))
        session.add(
            ApiKey(org_id=org.id, created_by=user.id, name="k", prefix="ias_x", key_hash="h")
        )

    async with database.unit_of_work() as session:
        await session.execute(sa.delete(Org).where(Org.id == org.id))

    async with database.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0
        assert await session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
        assert await session.get(User, user.id) is not None


async def test_roles_are_checked_and_read_back_as_enum(database: Database) -> None:
    async with database.unit_of_work() as session:
        user, org = _user("m@example.com"), Org(name="Acme", slug="acme")
        session.add_all([user, org])
        await session.flush()
        session.add(Membership(org_id=org.id, user_id=user.id, role=OrgRole.VIEWER))

    async with database.session() as session:
        stored = await session.scalar(sa.text("SELECT role FROM memberships"))
        role = await session.scalar(sa.select(Membership.role))
    assert (stored, role) == ("viewer", OrgRole.VIEWER)

    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as session:
            await session.execute(sa.text("UPDATE memberships SET role = 'emperor'"))


async def test_a_key_without_allowlist_stores_sql_null(database: Database) -> None:
    async with database.unit_of_work() as session:
        org = Org(name="Acme", slug="acme")
        session.add(org)
        await session.flush()
        session.add_all(
            [
                ApiKey(org_id=org.id, name="all", prefix="ias_a", key_hash="a", models=None),
                ApiKey(org_id=org.id, name="one", prefix="ias_b", key_hash="b", models=["m"]),
            ]
        )

    async with database.session() as session:
        rows = await session.execute(
            sa.select(ApiKey.name, ApiKey.models, ApiKey.models.is_(None)).order_by(ApiKey.name)
        )
        assert rows.all() == [("all", None, True), ("one", ["m"], False)]


async def test_a_redelivered_event_is_stored_once_on_both_dialects(database: Database) -> None:
    dialect_insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(UsageEvent).on_conflict_do_nothing(index_elements=["event_id", "ts"])
    event = {
        "event_id": uuid.uuid4(),
        "ts": utcnow(),
        "org_id": uuid.uuid4(),
        "api_key_id": uuid.uuid4(),
        "model": "demo-chat",
        "endpoint": "chat.completions",
        "http_status": 200,
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "cached_tokens": 0,
        "cost_micros": 3,
        "latency_ms": 4,
        "stream": True,
        "partial": False,
    }

    async with database.unit_of_work() as session:
        connection = await session.connection()
        first = await connection.execute(statement, event)
        second = await connection.execute(statement, event)

    async with database.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(UsageEvent)) == 1
    assert [first.rowcount, second.rowcount] == [1, 0]
