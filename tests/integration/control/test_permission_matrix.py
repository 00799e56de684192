"""Every `/api` operation, called by every kind of caller, answers as the permission matrix says.

The table below is the policy of API.md written out; `test_every_route_is_in_the_matrix` fails
when an endpoint is added without a row here. Callers: anonymous, the four roles of org A, the
owner of another org (B), a super admin, and a signed-in stranger with no org. Each case runs
on a freshly built world, so mutations in one case never leak into another.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from ias.control.context import ControlContext
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.models import ApiKey, Backend, Invite, ModelEntry, ModelKind, OrgRole
from tests.asgi import framework_app
from tests.integration.control.conftest import World, WorldBuilder, control_context

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CALLERS = (
    "anonymous",
    "viewer",
    "member",
    "admin",
    "owner",
    "other_owner",
    "super_admin",
    "stranger",
)


@dataclass
class Scene:
    world: World
    builder: WorldBuilder
    context: ControlContext


@dataclass(frozen=True)
class Call:
    url: str
    json: Any = None


Prepare = Callable[[Scene], Awaitable[Call]]


@dataclass(frozen=True)
class Op:
    method: str
    route: str
    expected: str  # one status per caller, in CALLERS order
    prepare: Prepare

    def status_for(self, caller: str) -> int:
        return int(self.expected.split()[CALLERS.index(caller)])


async def _add(scene: Scene, *rows: Any) -> None:
    async with scene.context.db.unit_of_work() as session:
        for row in rows:
            session.add(row)
            await session.flush()


async def _key_of(scene: Scene, who: str) -> uuid.UUID:
    key = ApiKey(
        id=uuid7(),
        org_id=scene.world.org,
        created_by=scene.world[who].id,
        name=f"{who}'s key",
        prefix="ias_matrix",
        key_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        created_at=utcnow(),
    )
    await _add(scene, key)
    return key.id


async def _invite(scene: Scene, role: str) -> uuid.UUID:
    invite = Invite(
        id=uuid7(),
        org_id=scene.world.org,
        email=f"invitee-{uuid.uuid4().hex[:8]}@example.com",
        role=OrgRole(role),
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        created_by=scene.world["owner"].id,
        expires_at=utcnow().replace(year=utcnow().year + 1),
        created_at=utcnow(),
    )
    await _add(scene, invite)
    return invite.id


async def _model(scene: Scene, *, backend: bool = False) -> tuple[uuid.UUID, uuid.UUID | None]:
    now = utcnow()
    model = ModelEntry(
        id=uuid7(),
        name=f"matrix-{uuid.uuid4().hex[:10]}",
        kind=ModelKind.CHAT,
        upstream_model="upstream",
        context_length=4096,
        input_price_micros_per_mtok=100_000,
        output_price_micros_per_mtok=200_000,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    rows: list[Any] = [model]
    backend_row = None
    if backend:
        backend_row = Backend(
            id=uuid7(),
            model_id=model.id,
            url=f"http://10.0.0.{uuid.uuid4().int % 250}:8000",
            weight=1,
            enabled=True,
            created_at=now,
        )
        rows.append(backend_row)
    await _add(scene, *rows)
    return model.id, backend_row.id if backend_row else None


def fixed(url: str, json: Any = None) -> Prepare:
    async def prepare(scene: Scene) -> Call:
        return Call(url.format(org=scene.world.org), json)

    return prepare


async def _member_role_change(scene: Scene) -> Call:
    target = scene.world["viewer"].id
    return Call(f"/api/orgs/{scene.world.org}/members/{target}", {"role": "member"})


async def _member_removal(scene: Scene) -> Call:
    extra = await scene.builder.person("extra", memberships={scene.world.org: "member"})
    return Call(f"/api/orgs/{scene.world.org}/members/{extra.id}")


async def _invite_revocation(scene: Scene) -> Call:
    return Call(f"/api/orgs/{scene.world.org}/invites/{await _invite(scene, 'member')}")


async def _foreign_key_revocation(scene: Scene) -> Call:
    return Call(f"/api/orgs/{scene.world.org}/api-keys/{await _key_of(scene, 'admin')}")


async def _model_url(scene: Scene) -> Call:
    model_id, _ = await _model(scene)
    return Call(f"/api/admin/models/{model_id}")


async def _model_patch(scene: Scene) -> Call:
    model_id, _ = await _model(scene)
    return Call(f"/api/admin/models/{model_id}", {"context_length": 8192})


async def _backend_add(scene: Scene) -> Call:
    model_id, _ = await _model(scene)
    return Call(f"/api/admin/models/{model_id}/backends", {"url": "http://10.1.2.3:8000"})


async def _backend_url(scene: Scene) -> Call:
    model_id, backend_id = await _model(scene, backend=True)
    return Call(f"/api/admin/models/{model_id}/backends/{backend_id}")


async def _backend_patch(scene: Scene) -> Call:
    call = await _backend_url(scene)
    return Call(call.url, {"weight": 5})


async def _user_patch(scene: Scene) -> Call:
    return Call(f"/api/admin/users/{scene.world['member'].id}", {"disabled": True})


async def _new_model(scene: Scene) -> Call:
    body = {
        "name": f"m-{uuid.uuid4().hex[:10]}",
        "kind": "chat",
        "upstream_model": "up",
        "input_price_per_mtok": 0.1,
        "output_price_per_mtok": 0.2,
    }
    return Call("/api/admin/models", body)


#            anon viewer member admin owner other super stranger
SIGNED_IN = "401  200   200    200   200   200   200   200"
ORG_READ = "401  200   200    200   200   404   200   404"
ORG_ADMIN = "401  403   403    200   200   404   200   404"
SUPER_ONLY = "401  403   403    403   403   403   200   403"

OPERATIONS = [
    Op("GET", "/api/me", SIGNED_IN, fixed("/api/me")),
    Op("POST", "/api/auth/logout", "401 204 204 204 204 204 204 204", fixed("/api/auth/logout")),
    Op(
        "POST",
        "/api/auth/password",
        "401 400 400 400 400 400 400 400",
        fixed(
            "/api/auth/password",
            {"current_password": "not the password!", "new_password": "another long phrase 9"},
        ),
    ),
    Op("POST", "/api/orgs", "401 201 201 201 201 201 201 201", fixed("/api/orgs", {"name": "N"})),
    Op("GET", "/api/orgs", SIGNED_IN, fixed("/api/orgs")),
    Op("GET", "/api/orgs/{org_id}", ORG_READ, fixed("/api/orgs/{org}")),
    Op(
        "PATCH",
        "/api/orgs/{org_id}",
        "401 403 403 403 200 404 200 404",
        fixed("/api/orgs/{org}", {"name": "Renamed"}),
    ),
    Op("DELETE", "/api/orgs/{org_id}", "401 403 403 403 204 404 204 404", fixed("/api/orgs/{org}")),
    Op("GET", "/api/orgs/{org_id}/members", ORG_READ, fixed("/api/orgs/{org}/members")),
    Op("GET", "/api/orgs/{org_id}/limits", ORG_READ, fixed("/api/orgs/{org}/limits")),
    Op("PATCH", "/api/orgs/{org_id}/members/{user_id}", ORG_ADMIN, _member_role_change),
    Op(
        "DELETE",
        "/api/orgs/{org_id}/members/{user_id}",
        "401 403 403 204 204 404 204 404",
        _member_removal,
    ),
    Op(
        "POST",
        "/api/orgs/{org_id}/invites",
        "401 403 403 201 201 404 201 404",
        fixed("/api/orgs/{org}/invites", {"email": "new-person@example.com", "role": "member"}),
    ),
    Op("GET", "/api/orgs/{org_id}/invites", ORG_ADMIN, fixed("/api/orgs/{org}/invites")),
    Op(
        "DELETE",
        "/api/orgs/{org_id}/invites/{invite_id}",
        "401 403 403 204 204 404 204 404",
        _invite_revocation,
    ),
    Op(
        "POST",
        "/api/orgs/{org_id}/api-keys",
        "401 403 201 201 201 404 201 404",
        fixed("/api/orgs/{org}/api-keys", {"name": "ci"}),
    ),
    Op("GET", "/api/orgs/{org_id}/api-keys", ORG_READ, fixed("/api/orgs/{org}/api-keys")),
    Op(
        "DELETE",
        "/api/orgs/{org_id}/api-keys/{key_id}",
        "401 403 403 204 204 404 204 404",
        _foreign_key_revocation,
    ),
    Op("GET", "/api/orgs/{org_id}/audit", ORG_ADMIN, fixed("/api/orgs/{org}/audit")),
    Op("GET", "/api/orgs/{org_id}/usage", ORG_READ, fixed("/api/orgs/{org}/usage")),
    Op("GET", "/api/orgs/{org_id}/usage.csv", ORG_READ, fixed("/api/orgs/{org}/usage.csv")),
    Op("GET", "/api/models", SIGNED_IN, fixed("/api/models")),
    Op("POST", "/api/admin/models", "401 403 403 403 403 403 201 403", _new_model),
    Op("GET", "/api/admin/models", SUPER_ONLY, fixed("/api/admin/models")),
    Op("GET", "/api/admin/models/{model_id}", SUPER_ONLY, _model_url),
    Op("PATCH", "/api/admin/models/{model_id}", SUPER_ONLY, _model_patch),
    Op("DELETE", "/api/admin/models/{model_id}", "401 403 403 403 403 403 204 403", _model_url),
    Op(
        "POST",
        "/api/admin/models/{model_id}/backends",
        "401 403 403 403 403 403 201 403",
        _backend_add,
    ),
    Op("PATCH", "/api/admin/models/{model_id}/backends/{backend_id}", SUPER_ONLY, _backend_patch),
    Op(
        "DELETE",
        "/api/admin/models/{model_id}/backends/{backend_id}",
        "401 403 403 403 403 403 204 403",
        _backend_url,
    ),
    Op("GET", "/api/admin/audit", SUPER_ONLY, fixed("/api/admin/audit")),
    Op("GET", "/api/admin/usage", SUPER_ONLY, fixed("/api/admin/usage")),
    Op("GET", "/api/admin/orgs", SUPER_ONLY, fixed("/api/admin/orgs")),
    Op("GET", "/api/admin/users", SUPER_ONLY, fixed("/api/admin/users")),
    Op("PATCH", "/api/admin/users/{user_id}", SUPER_ONLY, _user_patch),
    Op(
        "PATCH",
        "/api/admin/orgs/{org_id}/limits",
        SUPER_ONLY,
        fixed("/api/admin/orgs/{org}/limits", {"rpm": 100}),
    ),
]

# Operations outside the role matrix, with the tests that cover them.
NOT_ROLE_BASED = {
    ("POST", "/api/auth/login"): "test_auth.py: anyone may try; throttled",
    ("POST", "/api/auth/refresh"): "test_auth.py: authorised by the refresh token",
    ("GET", "/api/invites/{token}"): "test_invites.py: authorised by the invite token",
    ("POST", "/api/invites/{token}/accept"): "test_invites.py: invite token plus email match",
}

CASES = [
    pytest.param(op, caller, id=f"{op.method} {op.route} as {caller}")
    for op in OPERATIONS
    for caller in CALLERS
]


@pytest.mark.parametrize(("op", "caller"), CASES)
async def test_status_matches_the_matrix(
    op: Op,
    caller: str,
    client: httpx.AsyncClient,
    world: World,
    builder: WorldBuilder,
    control_app: ASGIApp,
) -> None:
    call = await op.prepare(Scene(world, builder, control_context(control_app)))
    headers = {} if caller == "anonymous" else world[caller].headers
    response = await client.request(op.method, call.url, json=call.json, headers=headers)
    expected = op.status_for(caller)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_every_route_is_in_the_matrix(control_app: ASGIApp) -> None:
    paths = control_context_api(control_app).openapi()["paths"]
    served = {(method.upper(), "/api" + path) for path, ops in paths.items() for method in ops}
    assert len(served) > 30
    covered = {(op.method, op.route) for op in OPERATIONS} | set(NOT_ROLE_BASED)
    assert served - covered == set(), "routes missing from the permission matrix"
    assert covered - served == set(), "matrix rows for routes that do not exist"


def control_context_api(app: ASGIApp) -> Any:
    for route in framework_app(app).routes:
        inner = getattr(getattr(route, "app", None), "app", None)
        if inner is not None and hasattr(inner.state, "control"):
            return inner
    raise AssertionError("the app serves no control plane")


async def _members_of_a(scene: Scene) -> tuple[str, Any]:
    return f"members/{scene.world['member'].id}", {"role": "viewer"}


async def _invite_of_a(scene: Scene) -> tuple[str, Any]:
    return f"invites/{await _invite(scene, 'member')}", None


async def _key_of_a(scene: Scene) -> tuple[str, Any]:
    return f"api-keys/{await _key_of(scene, 'member')}", None


CROSS_ORG = [
    ("PATCH", _members_of_a),
    ("DELETE", _members_of_a),
    ("DELETE", _invite_of_a),
    ("DELETE", _key_of_a),
]


@pytest.mark.parametrize(("method", "target"), CROSS_ORG, ids=lambda v: getattr(v, "__name__", v))
async def test_objects_of_one_org_cannot_be_reached_through_another(
    method: str,
    target: Callable[[Scene], Awaitable[tuple[str, Any]]],
    client: httpx.AsyncClient,
    world: World,
    builder: WorldBuilder,
    control_app: ASGIApp,
) -> None:
    scene = Scene(world, builder, control_context(control_app))
    path, body = await target(scene)
    other = world["other_owner"]
    response = await client.request(
        method, f"/api/orgs/{world.other_org}/{path}", json=body, headers=other.headers
    )
    assert response.status_code == 404, response.text
    # Org A still looks exactly as before to its own owner.
    members = await client.get(f"/api/orgs/{world.org}/members", headers=world["owner"].headers)
    assert {m["role"] for m in members.json() if m["user_id"] == str(world["member"].id)} == {
        "member"
    }
    keys = await client.get(f"/api/orgs/{world.org}/api-keys", headers=world["owner"].headers)
    assert all(key["revoked_at"] is None for key in keys.json())
    invites = await client.get(f"/api/orgs/{world.org}/invites", headers=world["owner"].headers)
    assert all(invite["revoked_at"] is None for invite in invites.json())
