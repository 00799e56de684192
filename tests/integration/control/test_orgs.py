"""Orgs and members through the HTTP API, as people in each role would use them."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.control.conftest import World

pytestmark = pytest.mark.postgres


async def test_creator_becomes_owner_and_sees_the_org(
    client: httpx.AsyncClient, world: World
) -> None:
    stranger = world["stranger"]
    response = await client.post("/api/orgs", json={"name": "New Co"}, headers=stranger.headers)
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["role"] == "owner"
    assert org["slug"].startswith("new-co")
    listed = (await client.get("/api/orgs", headers=stranger.headers)).json()
    assert [o["id"] for o in listed] == [org["id"]]
    me = (await client.get("/api/me", headers=stranger.headers)).json()
    assert me["memberships"] == [{"org_id": org["id"], "org_name": "New Co", "role": "owner"}]


async def test_foreign_org_is_404_not_403(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(f"/api/orgs/{world.other_org}", headers=world["owner"].headers)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


async def test_unknown_fields_are_rejected(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/orgs", json={"name": "X", "plan": "free"}, headers=world["stranger"].headers
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "plan"
    assert "Extra inputs are not permitted" in error["message"]


async def test_last_owner_cannot_leave_or_be_demoted(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world["owner"]
    base = f"/api/orgs/{world.org}/members/{owner.id}"
    leave = await client.delete(base, headers=owner.headers)
    assert leave.status_code == 409
    assert leave.json()["error"]["code"] == "last_owner"
    demote = await client.patch(base, json={"role": "admin"}, headers=owner.headers)
    assert demote.status_code == 409


async def test_admin_manages_members_but_not_admins_or_owners(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world["admin"]
    members = f"/api/orgs/{world.org}/members"
    promote_member = await client.patch(
        f"{members}/{world['viewer'].id}", json={"role": "member"}, headers=admin.headers
    )
    assert promote_member.status_code == 200
    assert promote_member.json()["role"] == "member"
    to_admin = await client.patch(
        f"{members}/{world['member'].id}", json={"role": "admin"}, headers=admin.headers
    )
    assert to_admin.status_code == 403
    touch_owner = await client.delete(f"{members}/{world['owner'].id}", headers=admin.headers)
    assert touch_owner.status_code == 403


async def test_owner_can_hand_over_and_then_leave(client: httpx.AsyncClient, world: World) -> None:
    owner, admin = world["owner"], world["admin"]
    members = f"/api/orgs/{world.org}/members"
    promote = await client.patch(
        f"{members}/{admin.id}", json={"role": "owner"}, headers=owner.headers
    )
    assert promote.status_code == 200
    leave = await client.delete(f"{members}/{owner.id}", headers=owner.headers)
    assert leave.status_code == 204
    gone = await client.get(f"/api/orgs/{world.org}", headers=owner.headers)
    assert gone.status_code == 404


async def test_owner_deletes_org(client: httpx.AsyncClient, world: World) -> None:
    owner = world["owner"]
    assert (await client.delete(f"/api/orgs/{world.org}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"/api/orgs/{world.org}", headers=owner.headers)).status_code == 404
    assert (
        await client.get(f"/api/orgs/{world.org}", headers=world["super_admin"].headers)
    ).status_code == 404


async def test_rename_is_owner_only(client: httpx.AsyncClient, world: World) -> None:
    url = f"/api/orgs/{world.org}"
    assert (
        await client.patch(url, json={"name": "Z"}, headers=world["admin"].headers)
    ).status_code == 403
    renamed = await client.patch(url, json={"name": "Zeta"}, headers=world["owner"].headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Zeta"


async def test_oversized_body_is_413_and_writes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    huge = {"name": "x" * (2 * 1024 * 1024)}
    response = await client.post("/api/orgs", json=huge, headers=world["stranger"].headers)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"
    listed = await client.get("/api/orgs", headers=world["stranger"].headers)
    assert listed.json() == []


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"name": 5}', b'{"name": ""}', b'{"name": "a\\u0000b"}', b"\xff\xfe"],
    ids=["truncated", "array", "wrong-type", "empty", "nul", "not-utf8"],
)
async def test_bad_bodies_are_400_envelopes(
    client: httpx.AsyncClient, world: World, body: bytes
) -> None:
    response = await client.post(
        "/api/orgs",
        content=body,
        headers={**world["stranger"].headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
