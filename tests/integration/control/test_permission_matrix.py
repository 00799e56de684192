"""Every `/api` operation, called by every kind of caller, answers as the permission matrix says.

The matrix itself (tests/permission_matrix.py) is the policy of API.md written out;
`test_every_route_is_in_the_matrix` fails when an endpoint is added without a row there.
Callers: anonymous, the four roles of org A, the owner of another org (B), a super admin, and a
signed-in stranger with no org. Each case runs on a freshly built world, written straight to the
database, so mutations in one case never leak into another.
"""

from __future__ import annotations

import uuid
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
from tests.permission_matrix import (
    CALLERS,
    CROSS_ORG,
    OPERATIONS,
    CrossOrgTarget,
    Op,
    routes_not_covered,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class DatabaseScene:
    """The matrix's `Scene`, with every object written directly as rows."""

    world: World
    builder: WorldBuilder
    context: ControlContext

    @property
    def org(self) -> str:
        return str(self.world.org)

    def user_id(self, who: str) -> str:
        return str(self.world[who].id)

    async def new_member(self, role: str) -> str:
        extra = await self.builder.person("extra", memberships={self.world.org: role})
        return str(extra.id)

    async def key_of(self, who: str) -> str:
        key = ApiKey(
            id=uuid7(),
            org_id=self.world.org,
            created_by=self.world[who].id,
            name=f"{who}'s key",
            prefix="ias_matrix",
            key_hash=uuid.uuid4().hex + uuid.uuid4().hex,
            created_at=utcnow(),
        )
        await self._add(key)
        return str(key.id)

    async def invite(self, role: str) -> str:
        invite = Invite(
            id=uuid7(),
            org_id=self.world.org,
            email=f"invitee-{uuid.uuid4().hex[:8]}@example.com",
            role=OrgRole(role),
            token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
            created_by=self.world["owner"].id,
            expires_at=utcnow().replace(year=utcnow().year + 1),
            created_at=utcnow(),
        )
        await self._add(invite)
        return str(invite.id)

    async def model(self) -> str:
        model = self._model_row()
        await self._add(model)
        return str(model.id)

    async def backend(self) -> tuple[str, str]:
        model = self._model_row()
        backend = Backend(
            id=uuid7(),
            model_id=model.id,
            url=f"http://10.0.0.{uuid.uuid4().int % 250}:8000",
            weight=1,
            enabled=True,
            created_at=model.created_at,
        )
        await self._add(model, backend)
        return str(model.id), str(backend.id)

    async def disposable_org(self) -> str:
        return self.org  # the world is this case's alone

    @staticmethod
    def _model_row() -> ModelEntry:
        now = utcnow()
        return ModelEntry(
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

    async def _add(self, *rows: Any) -> None:
        async with self.context.db.unit_of_work() as session:
            for row in rows:
                session.add(row)
                await session.flush()


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
    call = await op.prepare(DatabaseScene(world, builder, control_context(control_app)))
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
    missing, extra = routes_not_covered(served)
    assert missing == set(), "routes missing from the permission matrix"
    assert extra == set(), "matrix rows for routes that do not exist"


def control_context_api(app: ASGIApp) -> Any:
    for route in framework_app(app).routes:
        inner = getattr(getattr(route, "app", None), "app", None)
        if inner is not None and hasattr(inner.state, "control"):
            return inner
    raise AssertionError("the app serves no control plane")


@pytest.mark.parametrize(("method", "target"), CROSS_ORG, ids=lambda v: getattr(v, "__name__", v))
async def test_objects_of_one_org_cannot_be_reached_through_another(
    method: str,
    target: CrossOrgTarget,
    client: httpx.AsyncClient,
    world: World,
    builder: WorldBuilder,
    control_app: ASGIApp,
) -> None:
    path, body = await target(DatabaseScene(world, builder, control_context(control_app)))
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
