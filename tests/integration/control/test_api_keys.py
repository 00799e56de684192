"""API keys through the HTTP API: minted once, stored as a hash, never above their creator."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.types import ASGIApp

from ias.contracts.api_keys import display_prefix, hash_key, is_well_formed
from ias.contracts.invalidation import KEYS_CHANNEL, Invalidation
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.models import ApiKey, AuditEntry, ModelEntry, ModelKind, Org
from tests.integration.control.conftest import (
    Heard,
    Person,
    World,
    WorldBuilder,
    control_context,
)

pytestmark = pytest.mark.postgres

RPM_CAP, TPM_CAP = 60, 10_000
IP = "203.0.113.7"


def keys_url(org: uuid.UUID) -> str:
    return f"/api/orgs/{org}/api-keys"


async def create(
    client: httpx.AsyncClient, who: Person, org: uuid.UUID, **body: Any
) -> httpx.Response:
    body.setdefault("name", "ci")
    return await client.post(keys_url(org), json=body, headers=who.headers)


async def created_key(client: httpx.AsyncClient, who: Person, org: uuid.UUID) -> dict[str, Any]:
    response = await create(client, who, org)
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()
    return key


async def stored_keys(app: ASGIApp, org: uuid.UUID) -> list[ApiKey]:
    async with control_context(app).db.session() as session:
        return list((await session.scalars(select(ApiKey).where(ApiKey.org_id == org))).all())


async def stored_key(app: ASGIApp, key_id: str) -> ApiKey:
    async with control_context(app).db.session() as session:
        key = await session.get(ApiKey, uuid.UUID(key_id))
    assert key is not None
    return key


async def audit_entries(app: ASGIApp, org: uuid.UUID, action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.org_id == org, AuditEntry.action == action)
    async with control_context(app).db.session() as session:
        return list((await session.scalars(query)).all())


async def register_model(app: ASGIApp) -> str:
    now = utcnow()
    model = ModelEntry(
        id=uuid7(),
        name=f"model-{uuid.uuid4().hex[:10]}",
        kind=ModelKind.CHAT,
        upstream_model="upstream",
        created_at=now,
        updated_at=now,
    )
    async with control_context(app).db.unit_of_work() as session:
        session.add(model)
    return model.name


async def cap_org(app: ASGIApp, org_id: uuid.UUID, rpm: int | None, tpm: int | None) -> None:
    async with control_context(app).db.unit_of_work() as session:
        org = await session.get(Org, org_id)
        assert org is not None
        org.rpm_limit, org.tpm_limit = rpm, tpm


def assert_error(response: httpx.Response, status: int, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert error["param"] == param


async def test_key_is_well_formed_shown_once_and_stored_as_its_hmac(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    member = world["member"]
    response = await create(client, member, world.org, name="  laptop  ")
    assert response.status_code == 201, response.text
    body = response.json()
    key = body["key"]
    assert is_well_formed(key)
    assert body["prefix"] == display_prefix(key)
    assert body["name"] == "laptop"
    assert body["created_by"] == str(member.id)
    assert body["models"] is None
    assert body["rpm_limit"] is None
    assert body["expires_at"] is None

    row = await stored_key(control_app, body["id"])
    secret = control_context(control_app).settings.secret("api_key_secret")
    assert row.key_hash == hash_key(key, secret)
    assert key not in {row.key_hash, row.prefix, row.name}

    listing = await client.get(keys_url(world.org), headers=world["viewer"].headers)
    assert listing.status_code == 200
    assert key not in listing.text
    assert row.key_hash not in listing.text
    (listed,) = listing.json()
    assert "key" not in listed
    assert "key_hash" not in listed
    assert listed["id"] == body["id"]
    assert listed["status"] == "active"
    assert listed["prefix"] == body["prefix"]
    assert listed["revoked_at"] is None

    (entry,) = await audit_entries(control_app, world.org, "api_key.created")
    assert entry.actor_user_id == member.id
    assert entry.ip == IP
    assert entry.target_id == body["id"]
    assert entry.details == {"name": "laptop", "prefix": body["prefix"], "models": None}
    assert key not in str(entry.details)
    assert row.key_hash not in str(entry.details)


async def test_list_is_newest_first_and_shows_status(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    owner = world["owner"]
    first = await created_key(client, owner, world.org)
    second = await created_key(client, owner, world.org)
    third = await created_key(client, owner, world.org)
    async with control_context(control_app).db.unit_of_work() as session:
        expired = await session.get(ApiKey, uuid.UUID(second["id"]))
        assert expired is not None
        expired.expires_at = utcnow() - timedelta(seconds=1)
    revoke = await client.delete(f"{keys_url(world.org)}/{third['id']}", headers=owner.headers)
    assert revoke.status_code == 204
    listed = (await client.get(keys_url(world.org), headers=owner.headers)).json()
    assert [(k["id"], k["status"]) for k in listed] == [
        (third["id"], "revoked"),
        (second["id"], "expired"),
        (first["id"], "active"),
    ]


async def test_viewer_cannot_create_and_nothing_is_written(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    response = await create(client, world["viewer"], world.org)
    assert_error(response, 403)
    assert response.json()["error"]["type"] == "permission_error"
    assert await stored_keys(control_app, world.org) == []
    assert await audit_entries(control_app, world.org, "api_key.created") == []


async def test_outsiders_see_no_keys_of_the_org(client: httpx.AsyncClient, world: World) -> None:
    await created_key(client, world["member"], world.org)
    for who in ("stranger", "other_owner"):
        person = world[who]
        assert_error(await client.get(keys_url(world.org), headers=person.headers), 404)
        assert_error(await create(client, person, world.org), 404)
    assert_error(await client.get(keys_url(world.org)), 401)


async def test_member_revokes_own_key_but_not_another_members(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, builder: WorldBuilder
) -> None:
    member = world["member"]
    colleague = await builder.person("colleague", memberships={world.org: "member"})
    own = await created_key(client, member, world.org)
    theirs = await created_key(client, colleague, world.org)

    revoked = await client.delete(f"{keys_url(world.org)}/{own['id']}", headers=member.headers)
    assert revoked.status_code == 204
    denied = await client.delete(f"{keys_url(world.org)}/{theirs['id']}", headers=member.headers)
    assert_error(denied, 403)

    by_id = {
        k["id"]: k for k in (await client.get(keys_url(world.org), headers=member.headers)).json()
    }
    assert by_id[own["id"]]["status"] == "revoked"
    assert by_id[own["id"]]["revoked_at"]
    assert by_id[theirs["id"]]["status"] == "active"
    (entry,) = await audit_entries(control_app, world.org, "api_key.revoked")
    assert entry.target_id == own["id"]
    assert entry.actor_user_id == member.id
    assert entry.ip == IP


async def test_admin_revokes_any_key_and_revoking_twice_is_a_no_op(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    key = await created_key(client, world["owner"], world.org)
    url = f"{keys_url(world.org)}/{key['id']}"
    assert (await client.delete(url, headers=world["admin"].headers)).status_code == 204
    first_revoked_at = (await stored_key(control_app, key["id"])).revoked_at
    assert first_revoked_at is not None
    assert (await client.delete(url, headers=world["admin"].headers)).status_code == 204
    assert (await stored_key(control_app, key["id"])).revoked_at == first_revoked_at
    assert len(await audit_entries(control_app, world.org, "api_key.revoked")) == 1


async def test_openapi_documents_the_key_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert {"get", "post"} <= set(paths["/orgs/{org_id}/api-keys"])
    assert "delete" in paths["/orgs/{org_id}/api-keys/{key_id}"]


async def test_viewer_cannot_revoke(client: httpx.AsyncClient, world: World) -> None:
    key = await created_key(client, world["member"], world.org)
    response = await client.delete(
        f"{keys_url(world.org)}/{key['id']}", headers=world["viewer"].headers
    )
    assert_error(response, 403)


async def test_key_of_another_org_is_404_under_this_orgs_url(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    foreign = await created_key(client, world["other_owner"], world.other_org)
    for who in ("owner", "super_admin"):
        response = await client.delete(
            f"{keys_url(world.org)}/{foreign['id']}", headers=world[who].headers
        )
        assert_error(response, 404, "key_id")
    unknown = await client.delete(
        f"{keys_url(world.org)}/{uuid.uuid4()}", headers=world["owner"].headers
    )
    assert_error(unknown, 404, "key_id")
    assert (await stored_key(control_app, foreign["id"])).revoked_at is None


async def test_super_admin_creates_and_revokes_in_any_org(
    client: httpx.AsyncClient, world: World
) -> None:
    root = world["super_admin"]
    key = await created_key(client, root, world.org)
    member_key = await created_key(client, world["member"], world.org)
    for key_id in (key["id"], member_key["id"]):
        response = await client.delete(f"{keys_url(world.org)}/{key_id}", headers=root.headers)
        assert response.status_code == 204


async def test_limits_may_not_exceed_the_orgs(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    owner = world["owner"]
    unlimited = await create(client, owner, world.org, rpm_limit=1_000_000, tpm_limit=10**9)
    assert unlimited.status_code == 201, unlimited.text

    await cap_org(control_app, world.org, RPM_CAP, TPM_CAP)
    too_fast = await create(client, owner, world.org, rpm_limit=RPM_CAP + 1)
    assert_error(too_fast, 400, "rpm_limit")
    assert too_fast.json()["error"]["code"] == "above_org_limit"
    assert str(RPM_CAP) in too_fast.json()["error"]["message"]
    assert_error(await create(client, owner, world.org, tpm_limit=TPM_CAP + 1), 400, "tpm_limit")

    at_cap = await create(client, owner, world.org, rpm_limit=RPM_CAP, tpm_limit=TPM_CAP)
    assert at_cap.status_code == 201, at_cap.text
    assert (at_cap.json()["rpm_limit"], at_cap.json()["tpm_limit"]) == (RPM_CAP, TPM_CAP)
    assert len(await stored_keys(control_app, world.org)) == 2


async def test_model_allowlist_names_only_registered_models(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    member = world["member"]
    known = await register_model(control_app)
    unknown = await create(client, member, world.org, models=[known, "no-such-model"])
    assert_error(unknown, 400, "models")
    assert "'no-such-model'" in unknown.json()["error"]["message"]
    assert known not in unknown.json()["error"]["message"]
    assert_error(await create(client, member, world.org, models=[]), 400, "models")
    assert await stored_keys(control_app, world.org) == []

    allowed = await create(client, member, world.org, models=[known, known])
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["models"] == [known]
    assert (await stored_key(control_app, allowed.json()["id"])).models == [known]


async def test_expiry_must_be_in_the_future_and_is_kept_in_utc(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World
) -> None:
    member = world["member"]
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    assert_error(await create(client, member, world.org, expires_at=past), 400, "expires_at")

    naive = (utcnow() + timedelta(days=30)).replace(tzinfo=None, microsecond=0)
    as_utc = await create(client, member, world.org, expires_at=naive.isoformat())
    assert as_utc.status_code == 201, as_utc.text
    assert datetime.fromisoformat(as_utc.json()["expires_at"]) == naive.replace(tzinfo=UTC)

    in_paris = "2999-01-01T12:00:00+02:00"
    zoned = await create(client, member, world.org, expires_at=in_paris)
    assert zoned.status_code == 201, zoned.text
    row = await stored_key(control_app, zoned.json()["id"])
    assert row.expires_at == datetime(2999, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "x", "scopes": ["all"]}, "scopes"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "rpm_limit": 0}, "rpm_limit"),
        ({"name": "x", "rpm_limit": True}, "rpm_limit"),
        ({"name": "x", "rpm_limit": "60"}, "rpm_limit"),
        ({"name": "x", "tpm_limit": 2**31}, "tpm_limit"),
        ({"name": "x", "models": "demo-chat"}, "models"),
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({}, "name"),
    ],
)
async def test_bad_input_is_400_naming_the_field(
    client: httpx.AsyncClient,
    control_app: ASGIApp,
    world: World,
    body: dict[str, Any],
    param: str,
) -> None:
    response = await client.post(keys_url(world.org), json=body, headers=world["owner"].headers)
    assert_error(response, 400, param)
    assert await stored_keys(control_app, world.org) == []


async def test_revocation_is_published_after_commit(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, heard: Heard
) -> None:
    member = world["member"]
    own = await created_key(client, member, world.org)
    theirs = await created_key(client, world["owner"], world.org)
    refused = await client.delete(f"{keys_url(world.org)}/{theirs['id']}", headers=member.headers)
    assert refused.status_code == 403
    revoked = await client.delete(f"{keys_url(world.org)}/{own['id']}", headers=member.headers)
    assert revoked.status_code == 204

    secret = control_context(control_app).settings.secret("api_key_secret")
    own_hash, their_hash = hash_key(own["key"], secret), hash_key(theirs["key"], secret)
    seen: set[str] = set()
    async with asyncio.timeout(5):
        while own_hash not in seen:
            await asyncio.sleep(0.01)
            seen = {h for m in heard.on(KEYS_CHANNEL) for h in Invalidation.decode(m).key_hashes}
    assert their_hash not in seen
    assert own["key"].encode() not in b"".join(heard.on(KEYS_CHANNEL))


# --- "A key never grants more than its creator holds" ------------------------------------

CREATORS = ("viewer", "member", "admin", "owner", "super_admin", "stranger", "other_owner")
MAY_CREATE = {"member", "admin", "owner", "super_admin"}
LIMIT_CHOICES = (None, 1, "cap", "above", 2**31 - 1)
MODEL_CHOICES = ("all", "known", "both_known_twice", "with_unknown", "empty")


def _limit(choice: int | str | None, cap: int) -> int | None:
    if choice == "cap":
        return cap
    if choice == "above":
        return cap + 1
    assert choice is None or isinstance(choice, int)
    return choice


def _models(choice: str, known: list[str]) -> list[str] | None:
    return {
        "all": None,
        "known": known[:1],
        "both_known_twice": known + known,
        "with_unknown": [known[0], "not-registered"],
        "empty": [],
    }[choice]


def _expected_status(role: str, rpm: int | None, tpm: int | None, models: list[str] | None) -> int:
    if role in ("stranger", "other_owner"):
        return 404
    if role not in MAY_CREATE:
        return 403
    over = (rpm or 0) > RPM_CAP or (tpm or 0) > TPM_CAP
    return 400 if over or models == [] or "not-registered" in (models or []) else 201


async def _assert_never_above_creator(app: ASGIApp, world: World) -> None:
    async with control_context(app).db.session() as session:
        registered = set((await session.scalars(select(ModelEntry.name))).all())
    creators = {world[role].id for role in MAY_CREATE}
    for key in await stored_keys(app, world.org):
        assert key.created_by in creators
        assert key.rpm_limit is None or key.rpm_limit <= RPM_CAP
        assert key.tpm_limit is None or key.tpm_limit <= TPM_CAP
        assert key.models is None or (key.models and set(key.models) <= registered)
    assert await stored_keys(app, world.other_org) == []


async def _try_create(
    client: httpx.AsyncClient,
    world: World,
    known: list[str],
    case: tuple[str, int | str | None, int | str | None, str],
) -> None:
    role, rpm_choice, tpm_choice, models_choice = case
    rpm, tpm = _limit(rpm_choice, RPM_CAP), _limit(tpm_choice, TPM_CAP)
    models = _models(models_choice, known)
    response = await create(
        client, world[role], world.org, rpm_limit=rpm, tpm_limit=tpm, models=models
    )
    assert response.status_code == _expected_status(role, rpm, tpm, models), (case, response.text)


@pytest.fixture
async def known_models(control_app: ASGIApp, world: World) -> list[str]:
    """Caps org A at RPM_CAP/TPM_CAP and registers two models."""
    await cap_org(control_app, world.org, RPM_CAP, TPM_CAP)
    return [await register_model(control_app), await register_model(control_app)]


async def test_every_role_and_limit_combination_never_exceeds_the_creator(
    client: httpx.AsyncClient, control_app: ASGIApp, world: World, known_models: list[str]
) -> None:
    for role in CREATORS:
        for rpm in LIMIT_CHOICES:
            for tpm in LIMIT_CHOICES:
                for models in MODEL_CHOICES:
                    await _try_create(client, world, known_models, (role, rpm, tpm, models))
    await _assert_never_above_creator(control_app, world)


# The world is shared by every example on purpose: the property must hold for all the keys
# the examples leave behind together, not just for the last one.
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    role=st.sampled_from(CREATORS),
    rpm=st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1)),
    tpm=st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1)),
    models=st.sampled_from(MODEL_CHOICES),
)
async def test_random_requests_never_exceed_the_creator(
    client: httpx.AsyncClient,
    control_app: ASGIApp,
    world: World,
    known_models: list[str],
    role: str,
    rpm: int | None,
    tpm: int | None,
    models: str,
) -> None:
    await _try_create(client, world, known_models, (role, rpm, tpm, models))
    await _assert_never_above_creator(control_app, world)


async def test_key_concurrency_is_capped_by_the_org(
    client: httpx.AsyncClient, world: World
) -> None:
    owner, root = world["owner"], world["super_admin"]
    capped = await client.patch(
        f"/api/admin/orgs/{world.org}/limits", json={"concurrency": 4}, headers=root.headers
    )
    assert capped.status_code == 200
    too_many = await create(client, owner, world.org, concurrency_limit=5)
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "concurrency_limit"
    within = await create(client, owner, world.org, concurrency_limit=4)
    assert within.status_code == 201
    assert within.json()["concurrency_limit"] == 4
    listed = (await client.get(keys_url(world.org), headers=owner.headers)).json()
    assert [key["concurrency_limit"] for key in listed] == [4]
