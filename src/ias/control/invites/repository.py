"""SQL for invites, and for the account and membership an accepted invite creates.

Flushes, never commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ias.errors import Conflict
from ias.models import Invite, Membership, Org, User

USERS_EMAIL_INDEX = "uq_users_lower_email"
MEMBERSHIPS_KEY = "pk_memberships"


def _violates(error: IntegrityError, constraint: str) -> bool:
    """Whether the database refused the write because of this one named constraint."""
    driver_error = getattr(error, "orig", None) or error
    server_error = driver_error.__cause__ or driver_error
    named = getattr(server_error, "constraint_name", None)
    return named == constraint if named is not None else constraint in str(driver_error)


def _is_open(now: datetime) -> ColumnElement[bool]:
    return and_(Invite.accepted_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)


async def add_invite(session: AsyncSession, invite: Invite) -> None:
    session.add(invite)
    await session.flush()


async def invite_in_org(
    session: AsyncSession, org_id: uuid.UUID, invite_id: uuid.UUID
) -> Invite | None:
    query = select(Invite).where(Invite.id == invite_id, Invite.org_id == org_id)
    invite: Invite | None = await session.scalar(query)
    return invite


async def invite_by_token_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    invite: Invite | None = await session.scalar(
        select(Invite).where(Invite.token_hash == token_hash)
    )
    return invite


async def reload(session: AsyncSession, invite: Invite) -> None:
    """Read the invite's committed state again, after a guarded update matched no row."""
    await session.refresh(invite)


async def open_invite_exists(
    session: AsyncSession, org_id: uuid.UUID, email: str, now: datetime
) -> bool:
    query = select(Invite.id).where(
        Invite.org_id == org_id, func.lower(Invite.email) == email.lower(), _is_open(now)
    )
    return await session.scalar(query.limit(1)) is not None


async def recent_invites(
    session: AsyncSession, org_id: uuid.UUID, since: datetime, now: datetime
) -> list[Invite]:
    """Every invite still open, and every other one created since `since`; newest first."""
    query = (
        select(Invite)
        .where(Invite.org_id == org_id)
        .where(or_(Invite.created_at >= since, _is_open(now)))
        .order_by(Invite.created_at.desc(), Invite.id.desc())
    )
    return list((await session.scalars(query)).all())


async def claim(
    session: AsyncSession, invite_id: uuid.UUID, now: datetime, accepted_by: uuid.UUID | None
) -> bool:
    """Mark the invite accepted; False when it was used, revoked or expired meanwhile.

    The guard is in the UPDATE itself, so of two concurrent acceptances exactly one matches.
    """
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, _is_open(now))
        .values(accepted_at=now, accepted_by=accepted_by)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def set_accepted_by(session: AsyncSession, invite_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(
        update(Invite)
        .where(Invite.id == invite_id)
        .values(accepted_by=user_id)
        .execution_options(synchronize_session=False)
    )


async def revoke(session: AsyncSession, invite_id: uuid.UUID, now: datetime) -> bool:
    """Mark the invite revoked; False when it was accepted or revoked meanwhile."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite_id,
            Invite.accepted_at.is_(None),
            Invite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def org_by_id(session: AsyncSession, org_id: uuid.UUID) -> Org | None:
    return await session.get(Org, org_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    user: User | None = await session.scalar(select(User).where(User.email_is(email)))
    return user


async def is_member(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await session.get(Membership, (org_id, user_id)) is not None


async def email_is_member(session: AsyncSession, org_id: uuid.UUID, email: str) -> bool:
    query = (
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, User.email_is(email))
    )
    return await session.scalar(query.limit(1)) is not None


async def add_user(session: AsyncSession, user: User) -> None:
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:
        if not _violates(error, USERS_EMAIL_INDEX):
            raise
        raise Conflict(
            f"An account for {user.email} was created meanwhile: sign in, then accept the invite.",
            code="account_exists",
        ) from None


async def add_membership(session: AsyncSession, membership: Membership) -> None:
    session.add(membership)
    try:
        await session.flush()
    except IntegrityError as error:
        if not _violates(error, MEMBERSHIPS_KEY):
            raise
        raise Conflict(
            "You are already a member of this organization.", code="already_member"
        ) from None
