"""Reading the audit log: an org's own entries for its admins, everything for super admins."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from starlette.types import ASGIApp

from ias.models import User
from tests.integration.control.conftest import Person, World, WorldBuilder, control_context

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CLIENT_IP = "203.0.113.7"


async def _rename(client: httpx.AsyncClient, org: uuid.UUID, owner: Person, name: str) -> None:
    response = await client.patch(f"/api/orgs/{org}", json={"name": name}, headers=owner.headers)
    assert response.status_code == 200, response.text


async def _walk(client: httpx.AsyncClient, url: str, person: Person) -> list[dict[str, Any]]:
    """Every entry behind `url`, following `next_cursor` page by page."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await client.get(url, params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= 3
        entries += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


async def test_org_audit_shows_that_orgs_entries_with_actor_and_client_ip(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world["owner"]
    await _rename(client, world.org, owner, "Acme Two")
    await _rename(client, world.other_org, world["other_owner"], "Globex Two")
    response = await client.get(f"/api/orgs/{world.org}/audit", headers=world["admin"].headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    assert {entry["org_id"] for entry in page["data"]} == {str(world.org)}
    renamed = [entry for entry in page["data"] if entry["action"] == "org.renamed"]
    assert len(renamed) == 1
    entry = renamed[0]
    assert entry["actor_user_id"] == str(owner.id)
    assert entry["actor_email"] == owner.email
    assert entry["ip"] == CLIENT_IP
    assert entry["target_type"] == "org"
    assert entry["target_id"] == str(world.org)
    assert entry["details"] == {"from": "Acme", "to": "Acme Two"}
    assert set(entry) == {
        "id",
        "at",
        "actor_user_id",
        "actor_email",
        "org_id",
        "action",
        "target_type",
        "target_id",
        "ip",
        "details",
    }


async def test_org_audit_is_for_admins_and_owners_of_that_org(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/orgs/{world.org}/audit"
    for who, expected in (
        ("viewer", 403),
        ("member", 403),
        ("admin", 200),
        ("owner", 200),
        ("other_owner", 404),
        ("stranger", 404),
        ("super_admin", 200),
    ):
        response = await client.get(url, headers=world[who].headers)
        assert response.status_code == expected, (who, response.text)
    assert (await client.get(url)).status_code == 401
    foreign = await client.get(f"/api/orgs/{world.other_org}/audit", headers=world["owner"].headers)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["type"] == "not_found_error"


async def test_pages_walk_every_entry_once_newest_first(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world["owner"]
    for number in range(8):
        await _rename(client, world.org, owner, f"Acme {number}")
    entries = await _walk(client, f"/api/orgs/{world.org}/audit", owner)
    renames = [entry["details"]["to"] for entry in entries if entry["action"] == "org.renamed"]
    assert renames == [f"Acme {number}" for number in reversed(range(8))]
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids)) == 8
    stamps = [(entry["at"], entry["id"]) for entry in entries]
    assert stamps == sorted(stamps, reverse=True)


async def test_actor_email_is_null_once_the_actor_is_deleted(
    client: httpx.AsyncClient, world: World, builder: WorldBuilder, control_app: ASGIApp
) -> None:
    leaver = await builder.person("leaver", memberships={world.org: "owner"})
    await _rename(client, world.org, leaver, "Renamed By Leaver")
    async with control_context(control_app).db.unit_of_work() as session:
        await session.execute(delete(User).where(User.id == leaver.id))
    page = (await client.get(f"/api/orgs/{world.org}/audit", headers=world["owner"].headers)).json()
    entry = next(entry for entry in page["data"] if entry["action"] == "org.renamed")
    assert entry["actor_user_id"] == str(leaver.id)
    assert entry["actor_email"] is None


async def test_platform_audit_filters_by_org_and_action(
    client: httpx.AsyncClient, world: World
) -> None:
    await _rename(client, world.org, world["owner"], "Acme Filtered")
    await _rename(client, world.other_org, world["other_owner"], "Globex Filtered")
    root = world["super_admin"]
    by_org = await client.get(
        "/api/admin/audit", params={"org_id": str(world.other_org)}, headers=root.headers
    )
    assert by_org.status_code == 200, by_org.text
    assert {entry["org_id"] for entry in by_org.json()["data"]} == {str(world.other_org)}
    assert [entry["details"].get("to") for entry in by_org.json()["data"]] == ["Globex Filtered"]
    both = await client.get(
        "/api/admin/audit",
        params={"org_id": str(world.org), "action": "org.renamed"},
        headers=root.headers,
    )
    assert [entry["details"]["to"] for entry in both.json()["data"]] == ["Acme Filtered"]
    none = await client.get(
        "/api/admin/audit",
        params={"org_id": str(world.org), "action": "org.deleted"},
        headers=root.headers,
    )
    assert none.json() == {"data": [], "next_cursor": None}


async def test_platform_audit_is_for_super_admins_only(
    client: httpx.AsyncClient, world: World
) -> None:
    for who in ("owner", "other_owner", "stranger"):
        response = await client.get("/api/admin/audit", headers=world[who].headers)
        assert response.status_code == 403, who
        assert response.json()["error"]["type"] == "permission_error"
    assert (await client.get("/api/admin/audit")).status_code == 401


async def test_failed_sign_in_is_logged_without_the_password(
    client: httpx.AsyncClient, world: World
) -> None:
    password = f"wrong-{uuid.uuid4().hex}"
    email = world["member"].email
    failed = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert failed.status_code == 401
    response = await client.get(
        "/api/admin/audit",
        params={"action": "auth.login_failed", "limit": 200},
        headers=world["super_admin"].headers,
    )
    assert response.status_code == 200
    mine = [entry for entry in response.json()["data"] if entry["details"].get("email") == email]
    assert len(mine) == 1
    assert mine[0]["actor_user_id"] is None
    assert mine[0]["actor_email"] is None
    assert mine[0]["ip"] == CLIENT_IP
    assert password not in response.text


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b"2025-01-01T00:00:00|" + str(uuid.uuid4()).encode()).decode(),
        base64.urlsafe_b64encode(b"yesterday|nobody").decode(),
    ],
)
async def test_a_cursor_this_api_did_not_issue_is_a_400(
    client: httpx.AsyncClient, world: World, cursor: str
) -> None:
    for url, person in (
        (f"/api/orgs/{world.org}/audit", world["owner"]),
        ("/api/admin/audit", world["super_admin"]),
    ):
        response = await client.get(url, params={"cursor": cursor}, headers=person.headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == "cursor"
        assert "next_cursor" in error["message"]


@pytest.mark.parametrize("limit", ["0", "201", "500", "ten"])
async def test_limit_outside_1_to_200_is_a_400(
    client: httpx.AsyncClient, world: World, limit: str
) -> None:
    for url, person in (
        (f"/api/orgs/{world.org}/audit", world["owner"]),
        ("/api/admin/audit", world["super_admin"]),
    ):
        response = await client.get(url, params={"limit": limit}, headers=person.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == "limit"
