"""Invites through the HTTP API: made by admins and owners, used once, never above their maker."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from starlette.types import ASGIApp

from ias.kit.clock import utcnow
from ias.models import AuditEntry, Invite, Membership, OrgRole, User
from tests.integration.control.conftest import ROLES, Person, World, WorldBuilder, control_context

pytestmark = pytest.mark.postgres

NEW_PASSWORD = "violet tangerine orbit 42"
RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}
# What API.md promises: admins invite members and viewers, owners and super admins anyone.
MAY_INVITE: dict[str, set[str]] = {
    "viewer": set(),
    "member": set(),
    "admin": {"member", "viewer"},
    "owner": set(ROLES),
    "super_admin": set(ROLES),
}


def invites_url(org: uuid.UUID) -> str:
    return f"/api/orgs/{org}/invites"


def fresh_email(label: str = "invitee") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


async def invite(
    client: httpx.AsyncClient, who: Person, org: uuid.UUID, email: str, role: str = "member"
) -> httpx.Response:
    return await client.post(
        invites_url(org), json={"email": email, "role": role}, headers=who.headers
    )


async def created(
    client: httpx.AsyncClient, who: Person, org: uuid.UUID, email: str, role: str = "member"
) -> dict[str, Any]:
    response = await invite(client, who, org, email, role)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def accept_new(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD, **extra: Any
) -> httpx.Response:
    body = {"name": "New Person", "password": password, **extra}
    return await client.post(f"/api/invites/{token}/accept", json=body)


async def accept_as(client: httpx.AsyncClient, token: str, who: Person) -> httpx.Response:
    return await client.post(f"/api/invites/{token}/accept", headers=who.headers)


async def stored_invite(app: ASGIApp, invite_id: str) -> Invite:
    async with control_context(app).db.session() as session:
        found = await session.get(Invite, uuid.UUID(invite_id))
    assert found is not None
    return found


async def audit_entries(app: ASGIApp, org: uuid.UUID, action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.org_id == org, AuditEntry.action == action)
    async with control_context(app).db.session() as session:
        return list((await session.scalars(query.order_by(AuditEntry.at))).all())


async def users_with_email(app: ASGIApp, email: str) -> int:
    query = select(func.count()).select_from(User).where(User.email_is(email))
    async with control_context(app).db.session() as session:
        return int(await session.scalar(query) or 0)


async def expire(app: ASGIApp, invite_id: str) -> None:
    async with control_context(app).db.unit_of_work() as session:
        await session.execute(
            update(Invite)
            .where(Invite.id == uuid.UUID(invite_id))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


async def my_role(client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID) -> str | None:
    me = (await client.get("/api/me", headers=headers)).json()
    roles = [m["role"] for m in me["memberships"] if m["org_id"] == str(org)]
    return roles[0] if roles else None


async def sign_in(app: ASGIApp, email: str, password: str) -> httpx.Response:
    # From an address of its own: failed sign-ins by other tests throttle the shared test IP.
    address = "2001:db8::" + ":".join(uuid.uuid4().hex[i : i + 4] for i in range(0, 12, 4))
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as fresh:
        return await fresh.post("/api/auth/login", json={"email": email, "password": password})


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


@pytest.mark.redis
async def test_newcomer_accepts_creates_an_account_and_can_sign_in(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email("newcomer")
    sent = await created(client, world["owner"], world.org, email, "admin")
    assert set(sent) == {"id", "email", "role", "url", "token", "expires_at", "created_at"}
    assert sent["role"] == "admin"
    public_url = control_context(control_app).settings.control.public_url
    assert sent["url"] == f"{public_url}/invites/{sent['token']}"
    stored = await stored_invite(control_app, sent["id"])
    assert stored.token_hash == hashlib.sha256(sent["token"].encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=7)

    preview = await client.get(f"/api/invites/{sent['token']}")
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "org_name": "Acme",
        "email": email,
        "role": "admin",
        "expires_at": sent["expires_at"],
        "status": "pending",
        "account_exists": False,
    }

    accepted = await accept_new(client, sent["token"])
    assert accepted.status_code == 200, accepted.text
    joined = accepted.json()
    assert joined["org_id"] == str(world.org)
    assert joined["org_name"] == "Acme"
    assert joined["role"] == "admin"

    login = await sign_in(control_app, email, NEW_PASSWORD)
    assert login.status_code == 200, login.text
    headers = {"authorization": f"Bearer {login.json()['access_token']}"}
    assert await my_role(client, headers, world.org) == "admin"
    me = (await client.get("/api/me", headers=headers)).json()
    assert me["id"] == joined["user_id"]
    assert me["name"] == "New Person"

    after = (await client.get(f"/api/invites/{sent['token']}")).json()
    assert after["status"] == "accepted"
    assert after["account_exists"] is True
    stored = await stored_invite(control_app, sent["id"])
    assert str(stored.accepted_by) == joined["user_id"]


async def test_audit_records_creation_and_acceptance_without_the_token(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    sent = await created(client, world["admin"], world.org, fresh_email(), "viewer")
    [made] = await audit_entries(control_app, world.org, "invite.created")
    assert made.actor_user_id == world["admin"].id
    assert made.ip == "203.0.113.7"
    assert made.target_type == "invite"
    assert made.target_id == sent["id"]
    assert made.details["role"] == "viewer"
    assert sent["token"] not in str(made.details)
    joined = (await accept_new(client, sent["token"])).json()
    [taken] = await audit_entries(control_app, world.org, "invite.accepted")
    assert str(taken.actor_user_id) == joined["user_id"]
    assert taken.details["new_account"] is True
    assert sent["token"] not in str(taken.details)


async def test_signed_in_user_accepts_with_no_body(
    client: httpx.AsyncClient, world: World, builder: WorldBuilder
) -> None:
    newcomer = await builder.person("joiner")
    sent = await created(client, world["owner"], world.org, newcomer.email.upper(), "viewer")
    assert sent["email"] == newcomer.email
    preview = (await client.get(f"/api/invites/{sent['token']}")).json()
    assert preview["account_exists"] is True
    anonymous = await accept_new(client, sent["token"])
    assert_error(anonymous, 409, "account_exists")
    with_body = await client.post(
        f"/api/invites/{sent['token']}/accept",
        json={"name": "X", "password": NEW_PASSWORD},
        headers=newcomer.headers,
    )
    assert_error(with_body, 400, "unexpected_body")
    accepted = await accept_as(client, sent["token"], newcomer)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user_id"] == str(newcomer.id)
    assert await my_role(client, newcomer.headers, world.org) == "viewer"


async def test_signed_in_user_with_another_email_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    sent = await created(client, world["owner"], world.org, fresh_email())
    error = assert_error(await accept_as(client, sent["token"], world["stranger"]), 403)
    assert error["code"] == "invite_email_mismatch"
    assert sent["email"] in error["message"]
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "pending"
    assert await my_role(client, world["stranger"].headers, world.org) is None


async def test_accepting_when_already_a_member_is_409(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, builder: WorldBuilder
) -> None:
    late = await builder.person("late")
    sent = await created(client, world["owner"], world.org, late.email)
    async with control_context(control_app).db.unit_of_work() as session:
        session.add(
            Membership(org_id=world.org, user_id=late.id, role=OrgRole.VIEWER, created_at=utcnow())
        )
    assert_error(await accept_as(client, sent["token"], late), 409, "already_member")
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "pending"


async def test_bad_bearer_token_is_401_and_no_body_anonymously_is_400(
    client: httpx.AsyncClient, world: World
) -> None:
    sent = await created(client, world["owner"], world.org, fresh_email())
    url = f"/api/invites/{sent['token']}/accept"
    bad = await client.post(url, headers={"authorization": "Bearer not-a-token"})
    assert_error(bad, 401, "invalid_token")
    malformed = await client.post(url, headers={"authorization": "Basic abc"})
    assert_error(malformed, 401, "missing_token")
    assert_error(await client.post(url), 400, "missing_body")
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "pending"


async def test_weak_password_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email("samantha")
    sent = await created(client, world["owner"], world.org, email)
    short = assert_error(await accept_new(client, sent["token"], "short"), 400, "weak_password")
    assert short["param"] == "password"
    named = await accept_new(client, sent["token"], f"my {email.split('@')[0]} pass!")
    assert_error(named, 400, "weak_password")
    blank = await client.post(
        f"/api/invites/{sent['token']}/accept", json={"name": "   ", "password": NEW_PASSWORD}
    )
    assert assert_error(blank, 400)["param"] == "name"
    assert await users_with_email(control_app, email) == 0
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "pending"
    assert await audit_entries(control_app, world.org, "invite.accepted") == []


async def test_second_accept_is_refused(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email()
    sent = await created(client, world["owner"], world.org, email)
    assert (await accept_new(client, sent["token"])).status_code == 200
    again = await accept_new(client, sent["token"], "another fine passphrase")
    assert_error(again, 409, "invite_used")
    assert await users_with_email(control_app, email) == 1


async def test_concurrent_accepts_let_exactly_one_through(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email("racer")
    sent = await created(client, world["owner"], world.org, email)
    first, second = await asyncio.gather(
        accept_new(client, sent["token"]), accept_new(client, sent["token"])
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"]["code"] == "invite_used"
    assert await users_with_email(control_app, email) == 1
    assert len(await audit_entries(control_app, world.org, "invite.accepted")) == 1


async def test_concurrent_signed_in_accepts_let_exactly_one_through(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, builder: WorldBuilder
) -> None:
    joiner = await builder.person("twice")
    sent = await created(client, world["owner"], world.org, joiner.email)
    results = await asyncio.gather(*(accept_as(client, sent["token"], joiner) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    assert len(await audit_entries(control_app, world.org, "invite.accepted")) == 1


async def test_expired_invite_is_refused(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, builder: WorldBuilder
) -> None:
    email = fresh_email()
    sent = await created(client, world["owner"], world.org, email)
    await expire(control_app, sent["id"])
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "expired"
    assert_error(await accept_new(client, sent["token"]), 409, "invite_expired")
    assert await users_with_email(control_app, email) == 0
    joiner = await builder.person("slow")
    signed_in = await created(client, world["owner"], world.org, joiner.email)
    await expire(control_app, signed_in["id"])
    assert_error(await accept_as(client, signed_in["token"], joiner), 409, "invite_expired")
    assert await my_role(client, joiner.headers, world.org) is None
    # An expired invite no longer blocks a new one for the same email.
    assert (await invite(client, world["owner"], world.org, email)).status_code == 201


async def test_revoked_invite_is_refused_and_revoking_twice_is_a_no_op(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email()
    sent = await created(client, world["owner"], world.org, email)
    url = f"{invites_url(world.org)}/{sent['id']}"
    assert (await client.delete(url, headers=world["admin"].headers)).status_code == 204
    assert (await client.delete(url, headers=world["admin"].headers)).status_code == 204
    [revoked] = await audit_entries(control_app, world.org, "invite.revoked")
    assert revoked.actor_user_id == world["admin"].id
    assert revoked.target_id == sent["id"]
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "revoked"
    assert_error(await accept_new(client, sent["token"]), 409, "invite_revoked")
    assert await users_with_email(control_app, email) == 0


async def test_accepted_invite_cannot_be_revoked(client: httpx.AsyncClient, world: World) -> None:
    sent = await created(client, world["owner"], world.org, fresh_email())
    assert (await accept_new(client, sent["token"])).status_code == 200
    response = await client.delete(
        f"{invites_url(world.org)}/{sent['id']}", headers=world["owner"].headers
    )
    assert_error(response, 409, "invite_used")


async def test_admin_cannot_revoke_an_invite_above_what_they_may_grant(
    client: httpx.AsyncClient, world: World
) -> None:
    sent = await created(client, world["owner"], world.org, fresh_email(), "admin")
    url = f"{invites_url(world.org)}/{sent['id']}"
    assert_error(await client.delete(url, headers=world["admin"].headers), 403)
    assert (await client.delete(url, headers=world["owner"].headers)).status_code == 204


async def test_invites_of_another_org_are_404(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    foreign = await created(client, world["other_owner"], world.other_org, fresh_email())
    crossed = await client.delete(
        f"{invites_url(world.org)}/{foreign['id']}", headers=world["owner"].headers
    )
    assert_error(crossed, 404)
    unknown = await client.delete(
        f"{invites_url(world.org)}/{uuid.uuid4()}", headers=world["owner"].headers
    )
    assert assert_error(unknown, 404)["param"] == "invite_id"
    assert (await stored_invite(control_app, foreign["id"])).revoked_at is None
    listed = (await client.get(invites_url(world.org), headers=world["owner"].headers)).json()
    assert foreign["id"] not in {i["id"] for i in listed}
    for who in ("owner", "stranger"):
        attempt = await invite(client, world[who], world.other_org, fresh_email())
        assert_error(attempt, 404)


async def test_unknown_token_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/invites/no-such-token"), 404)
    assert_error(await accept_new(client, "no-such-token"), 404)


async def test_list_shows_status_and_never_a_token(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    owner = world["owner"]
    pending = await created(client, owner, world.org, fresh_email())
    accepted = await created(client, owner, world.org, fresh_email())
    revoked = await created(client, owner, world.org, fresh_email())
    expired = await created(client, owner, world.org, fresh_email())
    assert (await accept_new(client, accepted["token"])).status_code == 200
    await client.delete(f"{invites_url(world.org)}/{revoked['id']}", headers=owner.headers)
    await expire(control_app, expired["id"])
    response = await client.get(invites_url(world.org), headers=world["admin"].headers)
    assert response.status_code == 200, response.text
    listed = response.json()
    statuses = {i["id"]: i["status"] for i in listed}
    assert statuses == {
        pending["id"]: "pending",
        accepted["id"]: "accepted",
        revoked["id"]: "revoked",
        expired["id"]: "expired",
    }
    assert [i["id"] for i in listed] == [
        expired["id"],
        revoked["id"],
        accepted["id"],
        pending["id"],
    ]
    for sent in (pending, accepted, revoked, expired):
        assert sent["token"] not in response.text
    assert all("token" not in key for item in listed for key in item)
    assert all(item["created_by"] == str(owner.id) for item in listed)


async def test_email_is_normalized_and_malformed_email_is_400(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    email = fresh_email()
    sent = await created(client, world["owner"], world.org, f"  {email.upper()} ")
    assert sent["email"] == email
    for bad in ("not-an-email", "two@at@signs.com", "spaces in@example.com", "@example.com"):
        error = assert_error(await invite(client, world["owner"], world.org, bad), 400)
        assert error["param"] == "email"
        assert error["code"] == "invalid_email"
    assert len(await audit_entries(control_app, world.org, "invite.created")) == 1


async def test_member_or_open_invite_for_the_email_is_409(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world["owner"]
    member = assert_error(
        await invite(client, owner, world.org, world["viewer"].email.upper()), 409
    )
    assert member["code"] == "already_member"
    email = fresh_email()
    first = await created(client, owner, world.org, email)
    twice = assert_error(await invite(client, owner, world.org, email.upper(), "viewer"), 409)
    assert twice["code"] == "invite_pending"
    assert "revoke" in twice["message"]
    # The same email may be invited to another org at the same time.
    assert (await invite(client, world["other_owner"], world.other_org, email)).status_code == 201
    await client.delete(f"{invites_url(world.org)}/{first['id']}", headers=owner.headers)
    assert (await invite(client, owner, world.org, email, "viewer")).status_code == 201


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"email": "a@example.com", "role": "emperor"}, "role"),
        ({"email": 42, "role": "member"}, "email"),
        ({"email": ["a@example.com"], "role": "member"}, "email"),
        ({"email": "a@example.com"}, "role"),
        ({"email": "a@example.com", "role": "member", "expires_at": "2099-01-01"}, "expires_at"),
    ],
)
async def test_bad_invite_bodies_are_400(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], param: str
) -> None:
    response = await client.post(invites_url(world.org), json=body, headers=world["owner"].headers)
    assert assert_error(response, 400)["param"] == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "N", "password": NEW_PASSWORD, "role": "owner"}, "role"),
        ({"name": "N", "password": 123456789012345}, "password"),
        ({"name": None, "password": NEW_PASSWORD}, "name"),
        ({"password": NEW_PASSWORD}, "name"),
    ],
)
async def test_bad_accept_bodies_are_400_and_change_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], param: str
) -> None:
    sent = await created(client, world["owner"], world.org, fresh_email(), "viewer")
    response = await client.post(f"/api/invites/{sent['token']}/accept", json=body)
    assert assert_error(response, 400)["param"] == param
    assert (await client.get(f"/api/invites/{sent['token']}")).json()["status"] == "pending"


async def test_who_may_manage_invites(client: httpx.AsyncClient, world: World) -> None:
    url = invites_url(world.org)
    sent = await created(client, world["owner"], world.org, fresh_email(), "viewer")
    for who in ("viewer", "member"):
        headers = world[who].headers
        assert_error(await invite(client, world[who], world.org, fresh_email(), "viewer"), 403)
        assert_error(await client.get(url, headers=headers), 403)
        assert_error(await client.delete(f"{url}/{sent['id']}", headers=headers), 403)
    for who in ("other_owner", "stranger"):
        assert_error(await client.get(url, headers=world[who].headers), 404)
    assert_error(await client.get(url), 401)
    assert (await client.get(url, headers=world["super_admin"].headers)).status_code == 200


async def _invite_and_join(
    client: httpx.AsyncClient,
    builder: WorldBuilder,
    org: uuid.UUID,
    inviter: Person,
    inviter_role: str,
    role: str,
) -> Person | None:
    """One step of the property: the invite succeeds exactly when allowed, and grants `role`."""
    invitee = await builder.person(f"by-{inviter_role}-{uuid.uuid4().hex[:8]}")
    response = await invite(client, inviter, org, invitee.email, role)
    if role not in MAY_INVITE[inviter_role]:
        assert_error(response, 403)
        return None
    assert response.status_code == 201, response.text
    assert response.json()["role"] == role
    if inviter_role != "super_admin":
        assert RANK[role] <= RANK[inviter_role]
    joined = await accept_as(client, response.json()["token"], invitee)
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == role
    assert await my_role(client, invitee.headers, org) == role
    return invitee


async def _assert_no_invite_above_its_creator(app: ASGIApp, org: uuid.UUID) -> None:
    query = (
        select(Invite.role, Membership.role, User.is_super_admin)
        .join(User, User.id == Invite.created_by)
        .outerjoin(
            Membership, (Membership.user_id == Invite.created_by) & (Membership.org_id == org)
        )
        .where(Invite.org_id == org)
    )
    async with control_context(app).db.session() as session:
        rows = list(await session.execute(query))
    assert rows
    for invited, creator, super_admin in rows:
        assert super_admin or RANK[invited] <= RANK[creator]


async def test_every_actor_and_role_pair(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, builder: WorldBuilder
) -> None:
    for actor in (*ROLES, "super_admin"):
        for role in ROLES:
            await _invite_and_join(client, builder, world.org, world[actor], actor, role)
    await _assert_no_invite_above_its_creator(control_app, world.org)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=0, max_value=63), st.sampled_from(ROLES)),
        min_size=1,
        max_size=6,
    )
)
async def test_chains_of_invites_never_grant_more_than_the_inviter(
    client: httpx.AsyncClient,
    control_app: ASGIApp,
    builder: WorldBuilder,
    steps: list[tuple[int, str]],
) -> None:
    org = await builder.org("Chain")
    members: list[tuple[Person, str]] = [
        (
            await builder.person(f"founder-{uuid.uuid4().hex[:8]}", memberships={org: "owner"}),
            "owner",
        )
    ]
    for pick, role in steps:
        inviter, inviter_role = members[pick % len(members)]
        joined = await _invite_and_join(client, builder, org, inviter, inviter_role, role)
        if joined is not None:
            members.append((joined, role))
    await _assert_no_invite_above_its_creator(control_app, org)
