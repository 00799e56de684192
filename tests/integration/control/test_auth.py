"""Signing in, refresh rotation with reuse detection, logout, password change, throttling."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from starlette.types import ASGIApp

from tests.integration.control.conftest import PASSWORD, World, control_context

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_login_returns_a_token_and_a_strict_refresh_cookie(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await _login(client, world["member"].email.upper())
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 900
    cookie = response.headers["set-cookie"]
    for flag in ("ias_refresh=", "HttpOnly", "Secure", "SameSite=strict", "Path=/api/auth"):
        assert flag.lower() in cookie.lower()
    me = await client.get("/api/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == world["member"].email


async def test_unknown_email_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, world: World
) -> None:
    started = time.perf_counter()
    wrong = await _login(client, world["member"].email, "not the password at all")
    wrong_time = time.perf_counter() - started
    started = time.perf_counter()
    unknown = await _login(client, "nobody-here@example.com", "not the password at all")
    unknown_time = time.perf_counter() - started
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    # Both paths pay for one argon2 verification; allow generous noise on a shared machine.
    assert unknown_time > wrong_time / 4


async def test_account_is_throttled_after_repeated_failures(
    client: httpx.AsyncClient, world: World
) -> None:
    email = world["viewer"].email
    for _ in range(10):
        assert (await _login(client, email, "wrong password 123")).status_code == 401
    blocked = await _login(client, email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["error"]["code"] == "login_throttled"
    # Another account from the same address is not locked out by this one.
    assert (await _login(client, world["member"].email)).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await _login(client, world["admin"].email)
    old_refresh = first.cookies["ias_refresh"]
    rotated = await client.post("/api/auth/refresh")
    assert rotated.status_code == 200, rotated.text
    new_refresh = rotated.cookies["ias_refresh"]
    assert new_refresh != old_refresh
    new_access = rotated.json()["access_token"]
    assert (await client.get("/api/me", headers=_bearer(new_access))).status_code == 200

    client.cookies.clear()
    reused = await client.post("/api/auth/refresh", json={"refresh_token": old_refresh})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    # The whole family is dead: the newest refresh token and its access token too.
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": new_refresh})
    ).status_code == 401
    assert (await client.get("/api/me", headers=_bearer(new_access))).status_code == 401


async def test_concurrent_use_of_one_refresh_token_lets_at_most_one_through(
    client: httpx.AsyncClient, world: World
) -> None:
    token = (await _login(client, world["owner"].email)).cookies["ias_refresh"]
    client.cookies.clear()
    results = await asyncio.gather(
        *(client.post("/api/auth/refresh", json={"refresh_token": token}) for _ in range(5))
    )
    assert sum(r.status_code == 200 for r in results) <= 1
    assert all(r.status_code in (200, 401) for r in results)


async def test_refresh_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_refresh_token"


async def test_logout_ends_access_and_refresh_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    login = await _login(client, world["member"].email)
    access, refresh = login.json()["access_token"], login.cookies["ias_refresh"]
    assert (await client.post("/api/auth/logout", headers=_bearer(access))).status_code == 204
    assert (await client.get("/api/me", headers=_bearer(access))).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert refreshed.status_code == 401


async def test_password_change_ends_other_sessions_only(
    client: httpx.AsyncClient, world: World
) -> None:
    email = world["member"].email
    here = (await _login(client, email)).json()["access_token"]
    elsewhere = (await _login(client, email)).json()["access_token"]
    weak = await client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=_bearer(here),
    )
    assert weak.status_code == 400
    assert weak.json()["error"]["param"] == "new_password"
    changed = await client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a much better passphrase 42"},
        headers=_bearer(here),
    )
    assert changed.status_code == 204
    assert (await client.get("/api/me", headers=_bearer(here))).status_code == 200
    assert (await client.get("/api/me", headers=_bearer(elsewhere))).status_code == 401
    assert (await _login(client, email)).status_code == 401
    assert (await _login(client, email, "a much better passphrase 42")).status_code == 200


async def test_wrong_current_password_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/auth/password",
        json={"current_password": "not it at all!", "new_password": "a much better passphrase 42"},
        headers=world["viewer"].headers,
    )
    assert response.status_code == 400
    assert (await _login(client, world["viewer"].email)).status_code == 200


def _forged(control_app: ASGIApp, world: World, **claims: object) -> str:
    context = control_app and control_context(control_app)
    now = datetime.now(UTC)
    payload: dict[str, object] = {
        "sub": str(world["member"].id),
        "sid": "00000000-0000-0000-0000-000000000000",
        "iss": "ias",
        "aud": "ias-api",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": "x",
    }
    payload.update(claims)
    return jwt.encode(payload, context.settings.secret("jwt_secret"), algorithm="HS256")


async def test_token_for_a_session_that_never_existed_is_refused(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    response = await client.get("/api/me", headers=_bearer(_forged(control_app, world)))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer ' OR '1'='1",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    ],
)
async def test_malformed_authorization_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/me", headers={"authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


async def test_failed_login_is_audited_without_the_password(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    from sqlalchemy import select

    from ias.models import AuditEntry

    await _login(client, world["viewer"].email, "Hunter2-but-longer")
    context = control_context(control_app)
    async with context.db.session() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
            )
        ).all()
    mine = [e for e in entries if e.details.get("email") == world["viewer"].email]
    assert len(mine) == 1
    assert mine[0].ip == "203.0.113.7"
    assert "Hunter2" not in str(mine[0].details)
