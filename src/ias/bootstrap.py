"""The first super admin of an installation.

`create_super_admin` is what an operator runs (`ias-admin bootstrap create-super-admin`); it is
idempotent for one email. When that email already has an account, the account is made a super
admin and its password is left as it is: a bootstrap command that silently reset passwords
would let anyone with database access take over an account without a trace, and would make
re-running a provisioning script lock out the person who since changed their password.

`ensure_initial_super_admin` is what `ias up` runs: it creates `admin@ias.local` with a random
password only when the installation has no super admin at all.
"""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ias.errors import InvalidRequest
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.kit.passwords import hash_password, password_problem
from ias.models import User

INITIAL_ADMIN_EMAIL = "admin@ias.local"
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit


def normalize_email(email: str) -> str:
    """Emails are stored lowercase, so every lookup and the unique index agree."""
    candidate = email.strip().lower()
    local, _, domain = candidate.partition("@")
    if (
        not local
        or not domain
        or "@" in domain
        or len(candidate) > MAX_EMAIL_LENGTH
        or any(ch.isspace() for ch in candidate)
    ):
        raise InvalidRequest(f"{email!r} is not an email address", param="email")
    return candidate


def validate_credentials(email: str, password: str) -> str:
    """The normalized email, or `InvalidRequest` saying what is wrong with either input."""
    email = normalize_email(email)
    problem = password_problem(password, email=email)
    if problem is not None:
        raise InvalidRequest(problem, param="password", code="weak_password")
    return email


async def create_super_admin(
    db: Database, email: str, password: str, name: str | None = None
) -> tuple[User, bool]:
    """The super admin with this email, and whether it was created now.

    Raises `InvalidRequest` for a malformed email or a password the policy refuses, whether
    or not the account exists, so the command behaves the same on every run.
    """
    email = validate_credentials(email, password)
    existing = await _promote_existing(db, email)
    if existing is not None:
        return existing, False
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with db.unit_of_work() as session:
            user = _new_super_admin(email, password_hash, name)
            session.add(user)
    except IntegrityError:
        # Someone created this email between our lookup and our insert.
        existing = await _promote_existing(db, email)
        if existing is None:
            raise
        return existing, False
    return user, True


async def ensure_initial_super_admin(db: Database) -> str | None:
    """Create `admin@ias.local` when there is no super admin; its password, to show once.

    None when a super admin exists already, and also when `admin@ias.local` exists as an
    ordinary (e.g. demoted) user: promoting it back would undo a deliberate decision.
    """
    async with db.session() as session:
        if await _any_super_admin(session) or await _find_by_email(session, INITIAL_ADMIN_EMAIL):
            return None
    password = _random_password()
    _user, created = await create_super_admin(db, INITIAL_ADMIN_EMAIL, password, "Administrator")
    return password if created else None


def _random_password() -> str:
    while True:
        password = secrets.token_urlsafe(18)  # 144 bits in 24 characters
        # Random text can, very rarely, contain "admin" and so break the policy.
        if password_problem(password, email=INITIAL_ADMIN_EMAIL) is None:
            return password


async def _promote_existing(db: Database, email: str) -> User | None:
    async with db.unit_of_work() as session:
        user = await _find_by_email(session, email)
        if user is not None and not user.is_super_admin:
            user.is_super_admin = True
            user.updated_at = utcnow()
        return user


async def _find_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(User.email_is(email))
    result: User | None = await session.scalar(query)
    return result


async def _any_super_admin(session: AsyncSession) -> bool:
    query = select(User.id).where(User.is_super_admin.is_(True)).limit(1)
    return await session.scalar(query) is not None


def _new_super_admin(email: str, password_hash: str, name: str | None) -> User:
    now = utcnow()
    return User(
        id=uuid7(),
        email=email,
        password_hash=password_hash,
        name=name or email.partition("@")[0],
        disabled=False,
        is_super_admin=True,
        created_at=now,
        updated_at=now,
    )
