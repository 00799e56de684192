"""People made the way people get into IAS (invited, accepting the invite, signing in), and
the small helpers the end-to-end tests call the control plane's API with.

Everything goes through the live control plane's HTTP API, so the accounts, memberships and
tokens the tests use are exactly what a real deployment hands out.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.stack import UPSTREAM, Stack

ORG_ROLES = ("viewer", "member", "admin", "owner")


@dataclass
class Person:
    user_id: str
    email: str
    password: str
    token: str = ""  # an access token, once signed in

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def new_password() -> str:
    return f"pass-{secrets.token_urlsafe(18)}"


async def send_invite(
    api: httpx.AsyncClient, inviter: str, org_id: str, email: str, role: str
) -> Any:
    """The created invite (its `token` is what the invitee receives)."""
    body = {"email": email, "role": role}
    return ok(await api.post(f"/orgs/{org_id}/invites", json=body, headers=bearer(inviter)))


async def join(
    api: httpx.AsyncClient,
    inviter: str,
    org_id: str,
    role: str,
    *,
    sign_in: bool = True,
    hint: str = "person",
) -> Person:
    """A new account for a new email: invited into `org_id` as `role` by the holder of the
    `inviter` token, accepted with a name and a password, and (with `sign_in`) signed in."""
    email = f"{hint}-{uuid.uuid4().hex[:10]}@example.com"
    token = (await send_invite(api, inviter, org_id, email, role))["token"]
    password = new_password()
    accepted = ok(
        await api.post(f"/invites/{token}/accept", json={"name": hint, "password": password})
    )
    person = Person(accepted["user_id"], email, password)
    if sign_in:
        person.token = (await login(api, email, password))["access_token"]
    return person


async def login(
    api: httpx.AsyncClient, email: str, password: str, client_ip: str | None = None
) -> Any:
    """The login answer: access token and expiry (the refresh token is in the cookie)."""
    headers = {"x-forwarded-for": client_ip} if client_ip else {}
    body = {"email": email, "password": password}
    return ok(await api.post("/auth/login", json=body, headers=headers))


async def new_org(api: httpx.AsyncClient, token: str, name: str) -> str:
    created = ok(await api.post("/orgs", json={"name": name}, headers=bearer(token)))
    return str(created["id"])


async def set_role(
    api: httpx.AsyncClient, token: str, org_id: str, user_id: str, role: str
) -> None:
    path = f"/orgs/{org_id}/members/{user_id}"
    ok(await api.patch(path, json={"role": role}, headers=bearer(token)))


def api_client(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.api, timeout=30)


async def refresh(api: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    # The cookie is `Secure`: over plain HTTP it is sent by hand, as a browser behind TLS would.
    return await api.post("/auth/refresh", headers={"cookie": f"ias_refresh={refresh_token}"})


def model_body(prefix: str) -> dict[str, Any]:
    """A new chat model of the engines' upstream model, named `prefix-<random>`."""
    prices = {"input_price_per_mtok": 1, "output_price_per_mtok": 2}
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return {
        "name": name,
        "kind": "chat",
        "upstream_model": UPSTREAM,
        "context_length": 4096,
    } | prices


async def delete_models(api: httpx.AsyncClient, admin_token: str, ids: set[str]) -> None:
    """Drop models a test made, so the routers stop serving (and probing) them."""
    for model_id in ids:
        ok(await api.delete(f"/admin/models/{model_id}", headers=bearer(admin_token)))
