"""Passwords: argon2id hashes, and a policy that refuses the guessable ones."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from ias.kit.passwords import (
    common_passwords,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

GOOD = "violet-harbour-47-tangent"


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short-pass1", "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("aaaaaaaaaaaaaaaa", "repeated"),
        ("abcabcabcabcab", "repeated"),
        ("password1234", "too common"),
        ("PassWord1234", "too common"),
        ("1q2w3e4r5t6y", "too common"),
        ("qwertyuiopasdfgh", "too common"),
        ("iloveyou1234", "too common"),
        ("margaret.h-violet-47", "email"),
        ("MARGARET.H and more text", "email"),
    ],
)
def test_weak_passwords_are_refused(password: str, expected: str) -> None:
    problem = password_problem(password, email="Margaret.H@example.com")

    assert problem is not None
    assert expected in problem


@pytest.mark.parametrize("password", [GOOD, "x" * 11 + "y", "correct horse battery staple"])
def test_good_passwords_are_accepted(password: str) -> None:
    assert password_problem(password, email="margaret@example.com") is None


def test_a_very_short_email_name_does_not_forbid_letters() -> None:
    assert password_problem(GOOD, email="vi@example.com") is None


def test_hash_is_argon2id_and_verifies() -> None:
    password_hash = hash_password(GOOD)

    assert password_hash.startswith("$argon2id$")
    assert GOOD not in password_hash
    assert verify_password(password_hash, GOOD)
    assert not verify_password(password_hash, GOOD + "!")
    assert not needs_rehash(password_hash)


def test_same_password_hashes_differently() -> None:
    assert hash_password(GOOD) != hash_password(GOOD)


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$broken"])
def test_verify_of_a_broken_hash_is_false(garbage: str) -> None:
    assert verify_password(garbage, GOOD) is False
    assert needs_rehash(garbage)


def test_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(GOOD)

    assert verify_password(weak, GOOD)
    assert needs_rehash(weak)


def test_common_list_is_bundled_lowercase_and_long_enough_to_matter() -> None:
    listed = common_passwords()

    assert len(listed) >= 300
    assert all(entry == entry.lower() and len(entry) >= 12 for entry in listed)
