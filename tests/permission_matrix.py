"""The permission matrix of API.md written out: every `/api` operation and the status each kind
of caller gets for it.

Two tests run it: in process against the control app (tests/integration/control/), and over
real HTTP against the live control-plane process (tests/e2e/test_security.py). Each builds the
same situation its own way — rows written to the database, or invites accepted through the
API — and offers it through `Scene`: org A with one person per role, org B with its own owner,
a super admin, and a signed-in stranger who belongs to no org.

`Scene` hands out fresh objects (people, keys, invites, models, a whole org) for operations that
change or delete what they touch, so a case never spoils the situation for the next one, even
when every case shares one scene.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

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


class Scene(Protocol):
    @property
    def org(self) -> str:
        """Org A's id."""

    def user_id(self, who: str) -> str:
        """The user id of one of the callers."""

    async def new_member(self, role: str) -> str:
        """A new person in org A with `role`; their user id."""

    async def key_of(self, who: str) -> str:
        """The id of a new API key of org A, created by `who`."""

    async def invite(self, role: str) -> str:
        """The id of a new open invite into org A."""

    async def model(self) -> str:
        """The id of a new model with no backend."""

    async def backend(self) -> tuple[str, str]:
        """(model id, backend id) of a new model with one backend."""

    async def disposable_org(self) -> str:
        """An org where the role holders of org A hold the same roles: one a case may delete."""


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


def fixed(url: str, json: Any = None) -> Prepare:
    async def prepare(scene: Scene) -> Call:
        return Call(url.format(org=scene.org), json)

    return prepare


async def _member_role_change(scene: Scene) -> Call:
    target = await scene.new_member("viewer")
    return Call(f"/api/orgs/{scene.org}/members/{target}", {"role": "member"})


async def _member_removal(scene: Scene) -> Call:
    return Call(f"/api/orgs/{scene.org}/members/{await scene.new_member('member')}")


async def _new_invite(scene: Scene) -> Call:
    # One email has one open invite per org: every case invites someone new.
    email = f"new-person-{uuid.uuid4().hex[:10]}@example.com"
    return Call(f"/api/orgs/{scene.org}/invites", {"email": email, "role": "member"})


async def _invite_revocation(scene: Scene) -> Call:
    return Call(f"/api/orgs/{scene.org}/invites/{await scene.invite('member')}")


async def _foreign_key_revocation(scene: Scene) -> Call:
    return Call(f"/api/orgs/{scene.org}/api-keys/{await scene.key_of('admin')}")


async def _org_deletion(scene: Scene) -> Call:
    return Call(f"/api/orgs/{await scene.disposable_org()}")


async def _model_url(scene: Scene) -> Call:
    return Call(f"/api/admin/models/{await scene.model()}")


async def _model_patch(scene: Scene) -> Call:
    return Call(f"/api/admin/models/{await scene.model()}", {"context_length": 8192})


async def _backend_add(scene: Scene) -> Call:
    model_id = await scene.model()
    return Call(f"/api/admin/models/{model_id}/backends", {"url": "http://10.1.2.3:8000"})


async def _backend_url(scene: Scene) -> Call:
    model_id, backend_id = await scene.backend()
    return Call(f"/api/admin/models/{model_id}/backends/{backend_id}")


async def _backend_patch(scene: Scene) -> Call:
    call = await _backend_url(scene)
    return Call(call.url, {"weight": 5})


async def _user_patch(scene: Scene) -> Call:
    return Call(f"/api/admin/users/{await scene.new_member('member')}", {"disabled": True})


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
    Op("DELETE", "/api/orgs/{org_id}", "401 403 403 403 204 404 204 404", _org_deletion),
    Op("GET", "/api/orgs/{org_id}/members", ORG_READ, fixed("/api/orgs/{org}/members")),
    Op("GET", "/api/orgs/{org_id}/limits", ORG_READ, fixed("/api/orgs/{org}/limits")),
    Op("PATCH", "/api/orgs/{org_id}/members/{user_id}", ORG_ADMIN, _member_role_change),
    Op(
        "DELETE",
        "/api/orgs/{org_id}/members/{user_id}",
        "401 403 403 204 204 404 204 404",
        _member_removal,
    ),
    Op("POST", "/api/orgs/{org_id}/invites", "401 403 403 201 201 404 201 404", _new_invite),
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


def routes_not_covered(served: set[tuple[str, str]]) -> tuple[set[Any], set[Any]]:
    """(served routes with no row here, rows here for routes that are not served)."""
    covered = {(op.method, op.route) for op in OPERATIONS} | set(NOT_ROLE_BASED)
    return served - covered, covered - served


# Reaching org A's objects through org B's URLs, as org B's owner: (method, path under
# /api/orgs/{org B}/, body). Every one must be 404 and leave org A as it was.
CrossOrgTarget = Callable[[Scene], Awaitable[tuple[str, Any]]]


async def _member_of_a(scene: Scene) -> tuple[str, Any]:
    return f"members/{scene.user_id('member')}", {"role": "viewer"}


async def _invite_of_a(scene: Scene) -> tuple[str, Any]:
    return f"invites/{await scene.invite('member')}", None


async def _key_of_a(scene: Scene) -> tuple[str, Any]:
    return f"api-keys/{await scene.key_of('member')}", None


CROSS_ORG: list[tuple[str, CrossOrgTarget]] = [
    ("PATCH", _member_of_a),
    ("DELETE", _member_of_a),
    ("DELETE", _invite_of_a),
    ("DELETE", _key_of_a),
]
