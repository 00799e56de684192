"""The first super admin: idempotent per email, strong passwords only, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from ias.bootstrap import INITIAL_ADMIN_EMAIL, create_super_admin, ensure_initial_super_admin
from ias.errors import InvalidRequest
from ias.kit.db import Database
from ias.kit.passwords import hash_password, verify_password
from ias.models import User

PASSWORD = "violet-harbour-47-tangent"
OTHER_PASSWORD = "granite-meadow-83-lantern"


async def _users(database: Database) -> list[User]:
    async with database.session() as session:
        return list(await session.scalars(select(User)))


async def _count(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_creates_a_super_admin_with_an_argon2id_hash(database: Database) -> None:
    user, created = await create_super_admin(database, "Ada@Example.com", PASSWORD, name="Ada")

    assert created
    [stored] = await _users(database)
    assert stored.id == user.id
    assert stored.email == "ada@example.com"
    assert stored.name == "Ada"
    assert stored.is_super_admin
    assert not stored.disabled
    assert stored.password_hash.startswith("$argon2id$")
    assert verify_password(stored.password_hash, PASSWORD)


async def test_same_email_twice_is_one_account_with_its_first_password(database: Database) -> None:
    first, _ = await create_super_admin(database, "ada@example.com", PASSWORD)

    again, created = await create_super_admin(database, "ada@example.com", OTHER_PASSWORD)

    assert not created
    assert again.id == first.id
    [stored] = await _users(database)
    assert stored.is_super_admin
    assert verify_password(stored.password_hash, PASSWORD)
    assert not verify_password(stored.password_hash, OTHER_PASSWORD)


async def test_email_matches_whatever_its_letter_case(database: Database) -> None:
    await create_super_admin(database, "Ada@Example.COM", PASSWORD)

    _, created = await create_super_admin(database, "  aDA@example.com ", PASSWORD)

    assert not created
    assert await _count(database) == 1


async def test_an_ordinary_account_is_promoted_and_keeps_its_password(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add(User(email="ada@example.com", password_hash=hash_password(OTHER_PASSWORD)))

    user, created = await create_super_admin(database, "ADA@example.com", PASSWORD)

    assert not created
    assert user.is_super_admin
    [stored] = await _users(database)
    assert stored.is_super_admin
    assert verify_password(stored.password_hash, OTHER_PASSWORD)


async def test_racing_creations_of_one_email_make_one_account(database: Database) -> None:
    results = await asyncio.gather(
        *(create_super_admin(database, "ada@example.com", PASSWORD) for _ in range(4))
    )

    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({user.id for user, _ in results}) == 1
    assert await _count(database) == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw-1", "at least 12 characters"),
        ("password1234", "too common"),
        ("QWERTY123456", "too common"),
        ("zzzzzzzzzzzzzz", "repeated"),
        ("ada.lovelace-1815", "email"),
    ],
)
async def test_weak_password_is_refused_and_nothing_is_written(
    database: Database, password: str, reason: str
) -> None:
    with pytest.raises(InvalidRequest, match=reason) as caught:
        await create_super_admin(database, "ada.lovelace@example.com", password)

    assert caught.value.code == "weak_password"
    assert await _count(database) == 0


async def test_weak_password_is_refused_for_an_existing_account_too(database: Database) -> None:
    await create_super_admin(database, "ada@example.com", PASSWORD)

    with pytest.raises(InvalidRequest, match="too common"):
        await create_super_admin(database, "ada@example.com", "password1234")


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "a da@example.com"])
async def test_malformed_email_is_refused(database: Database, email: str) -> None:
    with pytest.raises(InvalidRequest, match="not an email address"):
        await create_super_admin(database, email, PASSWORD)


async def test_initial_admin_is_created_once_with_a_strong_password(database: Database) -> None:
    password = await ensure_initial_super_admin(database)

    assert password is not None
    assert len(password) >= 20
    assert await ensure_initial_super_admin(database) is None
    [stored] = await _users(database)
    assert stored.email == INITIAL_ADMIN_EMAIL
    assert stored.is_super_admin
    assert verify_password(stored.password_hash, password)


async def test_no_initial_admin_when_a_super_admin_exists(database: Database) -> None:
    await create_super_admin(database, "ada@example.com", PASSWORD)

    assert await ensure_initial_super_admin(database) is None
    assert [user.email for user in await _users(database)] == ["ada@example.com"]
