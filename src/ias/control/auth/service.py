"""Signing in and staying signed in.

* Login verifies an argon2id hash (bounded concurrency, in a thread). Failures are throttled
  per account and per client IP, and an unknown email costs the same hash as a known one, so
  neither the answer nor its timing tells whether an account exists.
* An access token is a short-lived JWT naming the user and the refresh-token family (`sid`).
  Every request reloads the user and checks the family is still live, so disabling a user,
  logging out or changing a password cuts access on the very next request.
* Refresh tokens are opaque, stored hashed, and rotate on every use. Presenting a rotated
  token again means it leaked: the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.audit.service import Actor, record
from ias.control.auth import repository
from ias.control.context import ControlContext
from ias.control.metrics import count_failed_login
from ias.errors import InvalidRequest, RateLimited, Unauthorized
from ias.kit.clock import as_utc, utcnow
from ias.kit.db import keep_on_refusal
from ias.kit.ids import uuid7
from ias.kit.jwt import InvalidToken
from ias.kit.passwords import password_problem
from ias.models import Org, OrgRole, RefreshSession, User

ACCOUNT_FAILURE_LIMIT = 10
IP_FAILURE_LIMIT = 100
FAILURE_WINDOW_SECONDS = 15 * 60
BAD_CREDENTIALS = "Incorrect email or password."


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    family_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime


def _token_hash(token: str) -> str:
    # Refresh tokens carry 256 random bits; a plain digest is enough to make a leaked table useless.
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue(
    context: ControlContext,
    session: AsyncSession,
    user: User,
    family_id: uuid.UUID,
    client: tuple[str | None, str | None],
) -> IssuedTokens:
    now = utcnow()
    refresh_token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=context.settings.control.refresh_token_ttl_seconds)
    ip, user_agent = client
    await repository.add_session(
        session,
        RefreshSession(
            id=uuid7(),
            user_id=user.id,
            family_id=family_id,
            token_hash=_token_hash(refresh_token),
            created_at=now,
            expires_at=now + ttl,
            ip=ip,
            user_agent=(user_agent or "")[:512] or None,
        ),
    )
    access, expires_at = context.tokens.issue(str(user.id), str(family_id), now)
    return IssuedTokens(access, int((expires_at - now).total_seconds()), refresh_token, now + ttl)


async def _check_throttle(context: ControlContext, email: str, ip: str | None) -> None:
    for key, limit in (
        (f"login:account:{email}", ACCOUNT_FAILURE_LIMIT),
        (f"login:ip:{ip}", IP_FAILURE_LIMIT),
    ):
        wait = await context.throttle.retry_after(key, limit)
        if wait is not None:
            count_failed_login("throttled")
            raise RateLimited(
                f"Too many failed sign-ins; try again in {wait} seconds.",
                code="login_throttled",
                headers={"retry-after": str(wait)},
            )


async def _record_failure(
    context: ControlContext, session: AsyncSession, email: str, ip: str | None
) -> None:
    await context.throttle.record(f"login:account:{email}", FAILURE_WINDOW_SECONDS)
    await context.throttle.record(f"login:ip:{ip}", FAILURE_WINDOW_SECONDS)
    await record(session, Actor(None, ip), "auth.login_failed", details={"email": email})
    keep_on_refusal(session)


async def login(
    context: ControlContext,
    session: AsyncSession,
    email: str,
    password: str,
    client: tuple[str | None, str | None],
) -> IssuedTokens:
    email = email.strip().lower()
    ip = client[0]
    await _check_throttle(context, email, ip)
    user = await repository.user_by_email(session, email)
    if user is None:
        verified = await context.passwords.verify_nobody(password)
    else:
        verified = await context.passwords.verify(user.password_hash, password)
    if user is None or not verified:
        await _record_failure(context, session, email, ip)
        count_failed_login("bad_credentials")
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    if user.disabled:
        count_failed_login("disabled")
        raise Unauthorized("This account is disabled; ask an administrator.", code="user_disabled")
    await context.throttle.reset(f"login:account:{email}")
    tokens = await _issue(context, session, user, uuid7(), client)
    await record(session, Actor(user.id, ip), "auth.login", target_type="user", target_id=user.id)
    return tokens


async def refresh(
    context: ControlContext,
    session: AsyncSession,
    refresh_token: str | None,
    client: tuple[str | None, str | None],
) -> IssuedTokens:
    if not refresh_token:
        raise Unauthorized("No refresh token: sign in again.", code="missing_refresh_token")
    current = await repository.session_by_token_hash(session, _token_hash(refresh_token))
    if current is None or current.revoked_at is not None:
        raise Unauthorized("This session has ended: sign in again.", code="invalid_refresh_token")
    now = utcnow()
    if not await repository.mark_rotated(session, current.id, now):
        await _revoke_reused_family(session, current, client[0])
        raise Unauthorized(
            "This refresh token was already used, so every session it belongs to has been "
            "ended; sign in again.",
            code="refresh_token_reused",
        )
    if as_utc(current.expires_at) <= now:
        raise Unauthorized("This session has expired: sign in again.", code="invalid_refresh_token")
    user = await repository.user_by_id(session, current.user_id)
    if user is None or user.disabled:
        raise Unauthorized("This account is disabled; ask an administrator.", code="user_disabled")
    return await _issue(context, session, user, current.family_id, client)


async def _revoke_reused_family(
    session: AsyncSession, reused: RefreshSession, ip: str | None
) -> None:
    await repository.revoke_family(session, reused.family_id, utcnow())
    await record(
        session,
        Actor(reused.user_id, ip),
        "auth.refresh_reuse_detected",
        target_type="session_family",
        target_id=reused.family_id,
    )
    # The request fails, but the revocation must stick.
    keep_on_refusal(session)


async def logout(session: AsyncSession, principal: Principal, ip: str | None) -> None:
    await repository.revoke_family(session, principal.family_id, utcnow())
    await record(
        session,
        Actor(principal.user.id, ip),
        "auth.logout",
        target_type="user",
        target_id=principal.user.id,
    )


async def change_password(
    context: ControlContext,
    session: AsyncSession,
    principal: Principal,
    current_password: str,
    new_password: str,
    ip: str | None,
) -> None:
    user = principal.user
    if not await context.passwords.verify(user.password_hash, current_password):
        raise InvalidRequest("The current password is not correct.", param="current_password")
    problem = password_problem(new_password, email=user.email)
    if problem is not None:
        raise InvalidRequest(
            problem[0].upper() + problem[1:] + ".", param="new_password", code="weak_password"
        )
    user.password_hash = await context.passwords.hash(new_password)
    user.updated_at = utcnow()
    await repository.revoke_user_sessions(session, user.id, utcnow(), keep=principal.family_id)
    await record(
        session, Actor(user.id, ip), "auth.password_changed", target_type="user", target_id=user.id
    )


async def authenticate(context: ControlContext, session: AsyncSession, token: str) -> Principal:
    try:
        claims = context.tokens.verify(token)
        user_id, family_id = uuid.UUID(claims.subject), uuid.UUID(claims.session)
    except (InvalidToken, ValueError):
        raise Unauthorized(
            "The access token is invalid or expired; refresh it or sign in again.",
            code="invalid_token",
        ) from None
    user = await repository.user_by_id(session, user_id)
    if user is None or user.disabled:
        raise Unauthorized("This account is disabled or no longer exists.", code="user_disabled")
    if not await repository.family_is_active(session, family_id, utcnow()):
        raise Unauthorized("This session has ended: sign in again.", code="session_ended")
    return Principal(user=user, family_id=family_id)


async def memberships(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Org, OrgRole]]:
    return await repository.memberships_of(session, user_id)
