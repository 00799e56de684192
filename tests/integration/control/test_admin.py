"""Platform administration by super admins: listing orgs and users, disabling, limits."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from starlette.types import ASGIApp

from ias.contracts.invalidation import KEYS_CHANNEL, Invalidation
from ias.control.admin import service
from ias.control.auth.service import Principal
from ias.errors import Conflict
from ias.kit.ids import uuid7
from ias.models import User
from tests.integration.control.conftest import Person, World, WorldBuilder, control_context

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def published(control_app: ASGIApp, monkeypatch: pytest.MonkeyPatch) -> list[Invalidation]:
    """Key invalidations the control plane publishes during the test."""
    notifier = control_context(control_app).notifier
    original = notifier.publish
    messages: list[Invalidation] = []

    async def recording_publish(channel: str, message: bytes) -> None:
        if channel == KEYS_CHANNEL:
            messages.append(Invalidation.decode(message))
        await original(channel, message)

    monkeypatch.setattr(notifier, "publish", recording_publish)
    return messages


async def _walk(
    client: httpx.AsyncClient, url: str, person: Person, q: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, "q": q} | ({"cursor": cursor} if cursor else {})
        response = await client.get(url, params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= 2
        rows += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


async def _audit(client: httpx.AsyncClient, root: Person, action: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/admin/audit", params={"action": action, "limit": 200}, headers=root.headers
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_admin_routes_are_for_super_admins_only(
    client: httpx.AsyncClient, world: World
) -> None:
    calls = [
        ("GET", "/api/admin/orgs", None),
        ("GET", "/api/admin/users", None),
        ("PATCH", f"/api/admin/users/{world['member'].id}", {"disabled": True}),
        ("PATCH", f"/api/admin/orgs/{world.org}/limits", {"rpm": 1}),
    ]
    for method, url, body in calls:
        assert (await client.request(method, url, json=body)).status_code == 401, url
        for who in ("owner", "admin", "other_owner", "stranger"):
            response = await client.request(method, url, json=body, headers=world[who].headers)
            assert response.status_code == 403, (who, url)
            assert response.json()["error"]["type"] == "permission_error"
    me = await client.get("/api/me", headers=world["member"].headers)
    assert me.status_code == 200


async def test_org_list_walks_every_match_once_with_member_counts(
    client: httpx.AsyncClient, world: World, builder: WorldBuilder
) -> None:
    tag = uuid.uuid4().hex[:8]
    created = [await builder.org(f"Listed{tag}n{number}") for number in range(5)]
    await builder.person("joiner", memberships={created[0]: "member"})
    rows = await _walk(client, "/api/admin/orgs", world["super_admin"], f"LISTED{tag}")
    assert [row["id"] for row in rows] == [str(org) for org in reversed(created)]
    counts = {row["id"]: row["members"] for row in rows}
    assert counts[str(created[0])] == 1
    assert counts[str(created[1])] == 0
    assert rows[0]["limits"] == {
        "rpm": None,
        "tpm": None,
        "monthly_token_quota": None,
        "monthly_budget_usd": None,
        "concurrency": None,
    }
    slug_part = rows[0]["slug"].rsplit("-", 1)[1]
    by_slug = await client.get(
        "/api/admin/orgs", params={"q": slug_part}, headers=world["super_admin"].headers
    )
    assert [row["id"] for row in by_slug.json()["data"]] == [str(created[-1])]
    wildcard = await client.get(
        "/api/admin/orgs", params={"q": f"listed{tag}%"}, headers=world["super_admin"].headers
    )
    assert wildcard.json() == {"data": [], "next_cursor": None}


async def test_user_list_walks_every_match_once_with_org_counts(
    client: httpx.AsyncClient, world: World, builder: WorldBuilder
) -> None:
    rows = await _walk(client, "/api/admin/users", world["super_admin"], builder.tag.upper())
    assert sorted(row["email"] for row in rows) == sorted(p.email for p in world.people.values())
    assert len({row["id"] for row in rows}) == len(world.people)
    by_email = {row["email"]: row for row in rows}
    assert by_email[world["owner"].email]["orgs"] == 1
    assert by_email[world["stranger"].email]["orgs"] == 0
    root = by_email[world["super_admin"].email]
    assert root["is_super_admin"] is True
    assert root["disabled"] is False
    assert "password_hash" not in root


async def test_disabling_a_user_ends_their_sessions_at_once(
    client: httpx.AsyncClient, world: World, published: list[Invalidation]
) -> None:
    root, member = world["super_admin"], world["member"]
    assert (await client.get("/api/me", headers=member.headers)).status_code == 200
    url = f"/api/admin/users/{member.id}"
    disabled = await client.patch(url, json={"disabled": True}, headers=root.headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    assert disabled.json()["orgs"] == 1
    assert any(message.flush for message in published)
    refused = await client.get("/api/me", headers=member.headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"

    enabled = await client.patch(url, json={"disabled": False}, headers=root.headers)
    assert enabled.json()["disabled"] is False
    still_refused = await client.get("/api/me", headers=member.headers)
    assert still_refused.status_code == 401
    assert still_refused.json()["error"]["code"] == "session_ended"

    for action in ("user.disabled", "user.enabled"):
        entries = [
            e for e in await _audit(client, root, action) if e["target_id"] == str(member.id)
        ]
        assert len(entries) == 1, action
        assert entries[0]["actor_email"] == root.email
        assert entries[0]["ip"] == "203.0.113.7"


async def test_granting_and_revoking_super_admin(client: httpx.AsyncClient, world: World) -> None:
    root, stranger = world["super_admin"], world["stranger"]
    url = f"/api/admin/users/{stranger.id}"
    granted = await client.patch(url, json={"is_super_admin": True}, headers=root.headers)
    assert granted.json()["is_super_admin"] is True
    assert (await client.get("/api/admin/users", headers=stranger.headers)).status_code == 200
    revoked = await client.patch(url, json={"is_super_admin": False}, headers=root.headers)
    assert revoked.json()["is_super_admin"] is False
    assert (await client.get("/api/admin/users", headers=stranger.headers)).status_code == 403
    for action in ("user.super_admin_granted", "user.super_admin_revoked"):
        entries = await _audit(client, root, action)
        assert [e["target_id"] for e in entries].count(str(stranger.id)) == 1


async def test_a_super_admin_cannot_disable_or_demote_themself(
    client: httpx.AsyncClient, world: World
) -> None:
    root = world["super_admin"]
    url = f"/api/admin/users/{root.id}"
    for body in ({"disabled": True}, {"is_super_admin": False}):
        response = await client.patch(url, json=body, headers=root.headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "cannot_demote_self"
        assert "another super admin" in error["message"]
    me = await client.get("/api/me", headers=root.headers)
    assert me.status_code == 200
    assert me.json()["is_super_admin"] is True
    unchanged = await client.patch(url, json={"disabled": False}, headers=root.headers)
    assert unchanged.status_code == 200


async def test_the_last_enabled_super_admin_stays_one(world: World, control_app: ASGIApp) -> None:
    # Over HTTP the caller is always another enabled super admin, so this only bites when two
    # super admins demote each other at the same moment: the first commits, the second must
    # then find nobody left. Replay the second one's view inside a transaction rolled back
    # at the end.
    first, second = world["super_admin"], world["stranger"]
    async with control_context(control_app).db.session() as session:
        await session.execute(
            update(User).where(User.id.not_in([first.id, second.id])).values(is_super_admin=False)
        )
        await session.execute(
            update(User).where(User.id == second.id).values(is_super_admin=True, disabled=True)
        )
        actor = await session.get(User, second.id)
        assert actor is not None
        with pytest.raises(Conflict) as refused:
            await service.update_user(
                session,
                Principal(user=actor, family_id=uuid7()),
                first.id,
                disabled=True,
                is_super_admin=None,
                ip=None,
            )
        assert refused.value.code == "last_super_admin"
        with pytest.raises(Conflict):
            await service.update_user(
                session,
                Principal(user=actor, family_id=uuid7()),
                first.id,
                disabled=None,
                is_super_admin=False,
                ip=None,
            )
        await session.rollback()


async def test_unknown_user_or_org_is_404(client: httpx.AsyncClient, world: World) -> None:
    root = world["super_admin"]
    missing = uuid.uuid4()
    for url, body in (
        (f"/api/admin/users/{missing}", {"disabled": True}),
        (f"/api/admin/orgs/{missing}/limits", {"rpm": 5}),
    ):
        response = await client.patch(url, json=body, headers=root.headers)
        assert response.status_code == 404, url
        assert response.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    "body",
    [
        {"disabled": True, "role": "owner"},
        {"disabled": "yes"},
        {"is_super_admin": 1},
    ],
)
async def test_bad_user_update_is_400_and_changes_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    member = world["member"]
    response = await client.patch(
        f"/api/admin/users/{member.id}", json=body, headers=world["super_admin"].headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert (await client.get("/api/me", headers=member.headers)).status_code == 200


async def test_limits_change_only_what_is_sent_and_null_clears(
    client: httpx.AsyncClient, world: World, published: list[Invalidation]
) -> None:
    root = world["super_admin"]
    url = f"/api/admin/orgs/{world.org}/limits"
    first = await client.patch(
        url, json={"rpm": 100, "monthly_budget_usd": 12.5}, headers=root.headers
    )
    assert first.status_code == 200, first.text
    assert first.json()["limits"] == {
        "rpm": 100,
        "tpm": None,
        "monthly_token_quota": None,
        "monthly_budget_usd": 12.5,
        "concurrency": None,
    }
    assert first.json()["members"] == 4
    assert any(message.flush for message in published)
    second = await client.patch(
        url, json={"tpm": 5000, "monthly_token_quota": 10**12}, headers=root.headers
    )
    assert second.json()["limits"] == {
        "rpm": 100,
        "tpm": 5000,
        "monthly_token_quota": 10**12,
        "monthly_budget_usd": 12.5,
        "concurrency": None,
    }
    cleared = await client.patch(
        url, json={"rpm": None, "monthly_budget_usd": None}, headers=root.headers
    )
    assert cleared.json()["limits"] == {
        "rpm": None,
        "tpm": 5000,
        "monthly_token_quota": 10**12,
        "monthly_budget_usd": None,
        "concurrency": None,
    }
    seen_by_owner = await client.get(f"/api/orgs/{world.org}", headers=world["owner"].headers)
    assert seen_by_owner.json()["limits"] == cleared.json()["limits"]

    audit = await client.get(f"/api/orgs/{world.org}/audit", headers=world["owner"].headers)
    changes = [
        entry["details"]
        for entry in audit.json()["data"]
        if entry["action"] == "org.limits_changed"
    ]
    assert changes == [
        {
            "from": {"rpm": 100, "monthly_budget_usd": 12.5},
            "to": {"rpm": None, "monthly_budget_usd": None},
        },
        {
            "from": {"tpm": None, "monthly_token_quota": None},
            "to": {"tpm": 5000, "monthly_token_quota": 10**12},
        },
        {
            "from": {"rpm": None, "monthly_budget_usd": None},
            "to": {"rpm": 100, "monthly_budget_usd": 12.5},
        },
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"rpm": -1}, "rpm"),
        ({"tpm": "5000"}, "tpm"),
        ({"rpm": 2**31}, "rpm"),
        ({"monthly_budget_usd": -0.01}, "monthly_budget_usd"),
        ({"monthly_token_quota": 1.5}, "monthly_token_quota"),
        ({"burst": 10}, "burst"),
    ],
)
async def test_bad_limits_are_400_and_change_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], param: str
) -> None:
    root = world["super_admin"]
    response = await client.patch(
        f"/api/admin/orgs/{world.org}/limits", json={"rpm": 7} | body, headers=root.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    org = await client.get(f"/api/orgs/{world.org}", headers=world["owner"].headers)
    assert org.json()["limits"]["rpm"] is None


async def test_admin_lists_reject_bad_cursor_and_limit(
    client: httpx.AsyncClient, world: World
) -> None:
    root = world["super_admin"]
    for url in ("/api/admin/orgs", "/api/admin/users"):
        bad_cursor = await client.get(url, params={"cursor": "nope"}, headers=root.headers)
        assert bad_cursor.status_code == 400
        assert bad_cursor.json()["error"]["param"] == "cursor"
        for limit in (0, 500):
            response = await client.get(url, params={"limit": limit}, headers=root.headers)
            assert response.status_code == 400
            assert response.json()["error"]["param"] == "limit"


async def test_per_model_and_concurrency_limits(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    from sqlalchemy import select

    from ias.kit.clock import utcnow
    from ias.kit.ids import uuid7
    from ias.models import ModelEntry, ModelKind, OrgModelLimit

    context = control_context(control_app)
    name = f"limited-{uuid7().hex[:8]}"
    async with context.db.unit_of_work() as session:
        session.add(
            ModelEntry(
                id=uuid7(),
                name=name,
                kind=ModelKind.CHAT,
                upstream_model="u",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    url = f"/api/admin/orgs/{world.org}/limits"
    headers = world["super_admin"].headers
    unknown = await client.patch(
        url, json={"models": {"no-such-model": {"rpm": 5}}}, headers=headers
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "models"
    for bad in ({"concurrency": 0}, {"concurrency": -3}, {"models": {name: {"rpm": -1}}}):
        assert (await client.patch(url, json=bad, headers=headers)).status_code == 400
    ok = await client.patch(
        url, json={"concurrency": 8, "models": {name: {"rpm": 5, "tpm": 900}}}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["limits"]["concurrency"] == 8
    async with context.db.session() as session:
        rows = (
            await session.scalars(select(OrgModelLimit).where(OrgModelLimit.org_id == world.org))
        ).all()
    assert [(r.model, r.rpm_limit, r.tpm_limit) for r in rows] == [(name, 5, 900)]
    cleared = await client.patch(url, json={"models": {name: None}}, headers=headers)
    assert cleared.status_code == 200
    async with context.db.session() as session:
        rows = (
            await session.scalars(select(OrgModelLimit).where(OrgModelLimit.org_id == world.org))
        ).all()
    assert rows == []


async def test_org_limits_and_usage_are_visible_and_a_quota_cannot_go_below_use(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    from ias.limits.types import Admission, Kind, Limit

    context = control_context(control_app)
    assert context.limiter is not None
    scope = f"org:{world.org}"
    quota = Limit(scope, Kind.MONTHLY_TOKENS, 10_000)
    decision = await context.limiter.admit(Admission("lease-1", (quota,), 700, 0))
    assert decision.ticket is not None
    await context.limiter.settle(decision.ticket, tokens=600, cost_micros=0)

    seen = await client.get(f"/api/orgs/{world.org}/limits", headers=world["viewer"].headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["usage"]["tokens_this_month"] == 600
    assert seen.json()["usage"]["requests_in_flight"] == 0

    url = f"/api/admin/orgs/{world.org}/limits"
    root = world["super_admin"].headers
    too_low = await client.patch(url, json={"monthly_token_quota": 500}, headers=root)
    assert too_low.status_code == 409
    assert too_low.json()["error"]["code"] == "below_current_use"
    assert "600" in too_low.json()["error"]["message"]
    fine = await client.patch(url, json={"monthly_token_quota": 600}, headers=root)
    assert fine.status_code == 200
