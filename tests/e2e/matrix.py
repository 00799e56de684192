"""The permission matrix (tests/permission_matrix.py) over real HTTP, on the live control plane.

`HttpScene` builds the matrix's situation the way a deployment gets it: people invited and
accepting, promoted by the super admin, an org created by its own owner. `run_matrix` then
sends every operation as every caller, an API key as bearer included.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.e2e.hostile import is_error_envelope
from tests.e2e.people import (
    ORG_ROLES,
    Person,
    bearer,
    join,
    login,
    model_body,
    new_org,
    ok,
    send_invite,
    set_role,
)
from tests.e2e.stack import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.permission_matrix import CALLERS, CROSS_ORG, OPERATIONS, Op


@dataclass
class HttpScene:
    """The permission matrix's `Scene` on the live control plane.

    Org A has one person per role (each invited as viewer, then promoted by the super admin);
    org B was created by its owner; the stranger joined an org that was then deleted. The super
    admin has a session of its own, so the matrix may log it out without touching the stack's.
    """

    api: httpx.AsyncClient
    people: dict[str, Person]
    org_a: str
    org_b: str

    @classmethod
    async def build(cls, api: httpx.AsyncClient) -> HttpScene:
        root = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        me = ok(await api.get("/me", headers=bearer(root["access_token"])))
        admin = Person(me["id"], ADMIN_EMAIL, ADMIN_PASSWORD, root["access_token"])
        people = {"super_admin": admin}
        org_a = await new_org(api, admin.token, "Matrix A")
        for role in ORG_ROLES:
            people[role] = await join(api, admin.token, org_a, "viewer", hint=role)
            if role != "viewer":
                await set_role(api, admin.token, org_a, people[role].user_id, role)
        lobby = await new_org(api, admin.token, "Lobby")
        for who in ("other_owner", "stranger"):
            people[who] = await join(api, admin.token, lobby, "viewer", hint=who)
        org_b = await new_org(api, people["other_owner"].token, "Matrix B")
        ok(await api.delete(f"/orgs/{lobby}", headers=admin.headers))
        return cls(api, people, org_a, org_b)

    # --- the Scene protocol -------------------------------------------------------------------

    @property
    def org(self) -> str:
        return self.org_a

    def user_id(self, who: str) -> str:
        return self.people[who].user_id

    async def new_member(self, role: str) -> str:
        admin = self.people["super_admin"].token
        return (await join(self.api, admin, self.org_a, role, sign_in=False, hint="extra")).user_id

    async def key_of(self, who: str) -> str:
        path = f"/orgs/{self.org_a}/api-keys"
        created = ok(
            await self.api.post(path, json={"name": who}, headers=self.people[who].headers)
        )
        return str(created["id"])

    async def invite(self, role: str) -> str:
        email = f"invitee-{uuid.uuid4().hex[:10]}@example.com"
        created = await send_invite(
            self.api, self.people["super_admin"].token, self.org_a, email, role
        )
        return str(created["id"])

    async def model(self) -> str:
        created = await self.api.post(
            "/admin/models", json=model_body("matrix"), headers=self._admin
        )
        return str(ok(created)["id"])

    async def backend(self) -> tuple[str, str]:
        model_id = await self.model()
        # Nothing listens there: the routers' probes are refused at once.
        body = {"url": "http://127.0.0.1:9/v1"}
        path = f"/admin/models/{model_id}/backends"
        created = ok(await self.api.post(path, json=body, headers=self._admin))
        return model_id, str(created["id"])

    async def disposable_org(self) -> str:
        org_id = await new_org(self.api, self.people["super_admin"].token, "Disposable")
        for role in ORG_ROLES:
            person = self.people[role]
            created = await send_invite(self.api, self._admin_token, org_id, person.email, role)
            # A signed-in person accepts an invite for their own email with no body.
            ok(await self.api.post(f"/invites/{created['token']}/accept", headers=person.headers))
        return org_id

    @property
    def _admin_token(self) -> str:
        return self.people["super_admin"].token

    @property
    def _admin(self) -> dict[str, str]:
        return self.people["super_admin"].headers


def matrix_cases() -> list[tuple[Op, str]]:
    """Every (operation, caller), an API key as bearer included; logging out last, since it
    ends the caller's session."""
    cases = [(op, caller) for op in OPERATIONS for caller in (*CALLERS, "api_key")]
    return sorted(cases, key=lambda case: case[0].route == "/api/auth/logout")


def expected_status(op: Op, caller: str) -> int:
    # An API key is no session: to /api it is as good as no credential at all.
    return op.status_for("anonymous" if caller == "api_key" else caller)


async def run_matrix(base_url: str, scene: HttpScene, key: str) -> list[str]:
    """Every case of the matrix against the control plane at `base_url`; the cases whose
    answer was not the expected status (or, for a refusal, not in the error envelope)."""
    mismatches = []
    for op, caller in matrix_cases():
        call = await op.prepare(scene)
        if caller == "anonymous":
            headers = {}
        else:
            headers = bearer(key) if caller == "api_key" else scene.people[caller].headers
        answer = await scene.api.request(
            op.method, base_url + call.url, json=call.json, headers=headers
        )
        expected = expected_status(op, caller)
        if answer.status_code != expected or (expected >= 400 and not is_error_envelope(answer)):
            mismatches.append(f"{op.method} {call.url} as {caller}: {answer.status_code}")
    return mismatches


async def cross_org_problems(scene: HttpScene) -> list[str]:
    """Org B's owner reaching org A's objects through org B's URLs: every answer that was not
    404, and whatever changed in org A (which must be untouched so far)."""
    api, problems = scene.api, []
    other = scene.people["other_owner"].headers
    for method, target in CROSS_ORG:
        path, body = await target(scene)
        url = f"/orgs/{scene.org_b}/{path}"
        answer = await api.request(method, url, json=body, headers=other)
        if answer.status_code != 404:
            problems.append(f"{method} {path}: {answer.status_code}")
    owner = scene.people["owner"].headers
    members = ok(await api.get(f"/orgs/{scene.org_a}/members", headers=owner))
    if {m["role"] for m in members if m["user_id"] == scene.user_id("member")} != {"member"}:
        problems.append("org A's member changed role")
    keys = ok(await api.get(f"/orgs/{scene.org_a}/api-keys", headers=owner))
    invites = ok(await api.get(f"/orgs/{scene.org_a}/invites", headers=owner))
    if any(item["revoked_at"] is not None for item in keys + invites):
        problems.append("a key or an invite of org A was revoked")
    if {org["id"] for org in ok(await api.get("/orgs", headers=other))} != {scene.org_b}:
        problems.append("org B's owner lists other orgs")
    return problems
