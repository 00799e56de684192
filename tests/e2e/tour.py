"""A tour of the platform that hands out or takes in every kind of secret there is (S7).

A person who joined through an invite gets a wrong password refused, signs in, refreshes,
makes an API key; the key calls /v1 through both routers, plainly and streamed, once through
a backend that has an api key of its own; an unknown key is refused; the person and the super
admin read back profile, keys, usage and audit. The tour returns every secret involved and
every response as the client saw it, for the test to look for the one in the other.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from ias.contracts.api_keys import generate_key
from tests.e2e.evidence import as_text
from tests.e2e.hostile import CHAT
from tests.e2e.people import api_client, bearer, delete_models, join, model_body, ok, refresh
from tests.e2e.stack import MODEL, Stack
from tests.leaks import refresh_token_of

SERVER_SECRETS = ("IAS_JWT_SECRET", "IAS_API_KEY_SECRET", "IAS_ENCRYPTION_KEY")
# The responses that rightly hand a secret out: the ones that create it.
HANDED_OUT = {
    "login response": {"access token", "refresh token"},
    "refresh response": {"refreshed access token", "refreshed refresh token"},
    "key creation response": {"api key"},
}
MESSAGES: Any = [{"role": "user", "content": "tell me a secret"}]


@dataclass
class Tour:
    secrets: dict[str, str] = field(default_factory=dict)  # what must stay hidden, by name
    responses: dict[str, str] = field(default_factory=dict)  # as the client saw them, by label


async def secrets_tour(stack: Stack) -> Tour:
    tour = Tour({name.lower(): stack.env[name] for name in SERVER_SECRETS})
    tour.secrets |= {"admin access token": stack.admin_token, "unknown api key": generate_key()}
    tour.secrets["wrong password"] = f"wrong-{secrets.token_urlsafe(16)}"
    tour.secrets["backend api key"] = f"bk-{secrets.token_urlsafe(24)}"
    org = stack.tenant().org_id
    async with api_client(stack) as api:
        session = await _sign_in_and_make_a_key(api, stack, org, tour)
        model_id, model = await _keyed_backend_model(api, stack, tour)
        await _wait_until_served(stack, tour.secrets["api key"], model)
        await _call_models(stack, tour, [MODEL, model])
        await stack.wait_for_rows(org, 4 * len(stack.routers))
        await _read_back(api, stack, org, session, tour)
        await delete_models(api, stack.admin_token, {model_id})
    return tour


async def _sign_in_and_make_a_key(
    api: httpx.AsyncClient, stack: Stack, org: str, tour: Tour
) -> dict[str, str]:
    """A wrong password, a sign-in, a refresh and a new key; the refreshed session's headers."""
    person = await join(api, stack.admin_token, org, "admin", sign_in=False)
    tour.secrets["password"] = person.password
    wrong = {"email": person.email, "password": tour.secrets["wrong password"]}
    refused = await api.post("/auth/login", json=wrong)
    right = {"email": person.email, "password": person.password}
    signed_in = await api.post("/auth/login", json=right)
    tour.secrets["access token"] = signed_in.json()["access_token"]
    tour.secrets["refresh token"] = refresh_token_of(signed_in)
    refreshed = await refresh(api, tour.secrets["refresh token"])
    tour.secrets["refreshed access token"] = refreshed.json()["access_token"]
    tour.secrets["refreshed refresh token"] = refresh_token_of(refreshed)
    session = bearer(tour.secrets["refreshed access token"])
    created = await api.post(f"/orgs/{org}/api-keys", json={"name": "tour"}, headers=session)
    tour.secrets["api key"] = created.json()["key"]
    tour.responses |= {
        "wrong password response": as_text(refused),
        "login response": as_text(signed_in),
        "refresh response": as_text(refreshed),
        "key creation response": as_text(created),
    }
    return session


async def _keyed_backend_model(api: httpx.AsyncClient, stack: Stack, tour: Tour) -> tuple[str, str]:
    """A throwaway model served by engine A through a backend with an api key: (id, name)."""
    admin = bearer(stack.admin_token)
    model = ok(await api.post("/admin/models", json=model_body("tour"), headers=admin))
    engine = f"http://{stack.proxies['engine-a'].address}/v1"
    backend = {"url": engine, "api_key": tour.secrets["backend api key"]}
    path = f"/admin/models/{model['id']}"
    added = await api.post(f"{path}/backends", json=backend, headers=admin)
    assert added.status_code == 201, added.text
    shown = await api.get(path, headers=admin)
    tour.responses["backend creation response"] = as_text(added)
    tour.responses["model read response"] = as_text(shown)
    return model["id"], model["name"]


async def _wait_until_served(stack: Stack, key: str, model: str) -> None:
    """Until both routers list `model` (they learn of it from the control plane's notice)."""
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient(headers=bearer(key)) as client:
        for router in stack.routers:
            while True:
                listed = (await client.get(stack.v1(router) + "/models")).json()["data"]
                if model in {entry["id"] for entry in listed}:
                    break
                assert time.monotonic() < deadline, f"{router} never served {model}"
                await asyncio.sleep(0.1)


async def _call_models(stack: Stack, tour: Tour, models: list[str]) -> None:
    """Chat calls through the `openai` SDK, plain and streamed, on every router and model;
    and one with an unknown key."""
    key = tour.secrets["api key"]
    for router in stack.routers:
        async with openai.AsyncOpenAI(base_url=stack.v1(router), api_key=key) as client:
            chat = client.chat.completions
            for model in models:
                plain = await chat.with_raw_response.create(
                    model=model, messages=MESSAGES, max_tokens=5
                )
                tour.responses[f"{router} {model} chat"] = as_text(plain.http_response)
                async with chat.with_streaming_response.create(
                    model=model, messages=MESSAGES, max_tokens=5, stream=True
                ) as streamed:
                    await streamed.read()
                    tour.responses[f"{router} {model} stream"] = as_text(streamed.http_response)
    async with httpx.AsyncClient(headers=bearer(tour.secrets["unknown api key"])) as client:
        unknown = await client.post(stack.v1() + "/chat/completions", json=CHAT)
    tour.responses["unknown key response"] = as_text(unknown)


async def _read_back(
    api: httpx.AsyncClient, stack: Stack, org: str, session: dict[str, str], tour: Tour
) -> None:
    """What the person and the super admin read back: profile, keys, usage, audit."""
    paths = {
        "me": "/me",
        "keys": f"/orgs/{org}/api-keys",
        "usage": f"/orgs/{org}/usage",
        "usage csv": f"/orgs/{org}/usage.csv",
        "org audit": f"/orgs/{org}/audit",
    }
    for name, path in paths.items():
        tour.responses[f"{name} response"] = as_text(await api.get(path, headers=session))
    platform = await api.get("/admin/audit", headers=bearer(stack.admin_token))
    tour.responses["platform audit response"] = as_text(platform)
