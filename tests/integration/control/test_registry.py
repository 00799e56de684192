"""The model registry (super admins) and the catalog (everyone signed in), through the HTTP API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from starlette.types import ASGIApp

from ias.contracts.invalidation import FLUSH, MODELS_CHANNEL
from ias.kit.crypto import Encryptor
from ias.kit.notify import RedisNotifier
from ias.models import AuditEntry, Backend, ModelEntry
from ias.stores import build_notifier, redis_client
from tests.integration.control.conftest import World, control_context

pytestmark = pytest.mark.postgres

MODELS = "/api/admin/models"
UPSTREAM_KEY = "sk-upstream-0123456789abcdef"


def model_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"llama-{uuid.uuid4().hex[:8]}",
        "kind": "chat",
        "upstream_model": "meta-llama/Llama-3.1-8B-Instruct",
        "context_length": 8192,
        "input_price_per_mtok": 0.15,
        "output_price_per_mtok": 0.6,
    }
    body.update(overrides)
    return body


async def create_model(client: httpx.AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        MODELS, json=model_body(**overrides), headers=world["super_admin"].headers
    )
    assert response.status_code == 201, response.text
    model: dict[str, Any] = response.json()
    return model


async def add_backend(
    client: httpx.AsyncClient, world: World, model_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{MODELS}/{model_id}/backends",
        json={"url": f"http://10.0.0.{len(body) + 5}:8000/v1", **body},
        headers=world["super_admin"].headers,
    )
    assert response.status_code == 201, response.text
    backend: dict[str, Any] = response.json()
    return backend


async def stored_model(app: ASGIApp, model_id: str) -> ModelEntry | None:
    async with control_context(app).db.session() as session:
        return await session.get(ModelEntry, uuid.UUID(model_id))


async def stored_backends(app: ASGIApp, model_id: str) -> list[Backend]:
    async with control_context(app).db.session() as session:
        query = select(Backend).where(Backend.model_id == uuid.UUID(model_id))
        return list((await session.scalars(query)).all())


async def audit_of(app: ASGIApp, target_id: str) -> list[AuditEntry]:
    async with control_context(app).db.session() as session:
        query = select(AuditEntry).where(AuditEntry.target_id == target_id).order_by(AuditEntry.at)
        return list((await session.scalars(query)).all())


async def test_super_admin_manages_a_model_from_creation_to_deletion(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    root = world["super_admin"].headers
    model = await create_model(client, world, cached_input_price_per_mtok=0.075)
    assert model["kind"] == "chat"
    assert model["input_price_per_mtok"] == 0.15
    assert model["cached_input_price_per_mtok"] == 0.075
    assert model["enabled"] is True
    assert model["backends"] == []
    url = f"{MODELS}/{model['id']}"

    backend = await add_backend(client, world, model["id"], weight=3)
    fetched = (await client.get(url, headers=root)).json()
    assert [b["id"] for b in fetched["backends"]] == [backend["id"]]
    listed = (await client.get(MODELS, headers=root)).json()
    assert model["id"] in [m["id"] for m in listed]

    renamed = f"renamed-{uuid.uuid4().hex[:8]}"
    patch = {"name": renamed, "output_price_per_mtok": 1.25, "context_length": None}
    updated = await client.patch(url, json=patch, headers=root)
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == renamed
    assert updated.json()["output_price_per_mtok"] == 1.25
    assert updated.json()["context_length"] is None
    assert updated.json()["input_price_per_mtok"] == 0.15
    assert updated.json()["backends"][0]["weight"] == 3

    assert (await client.delete(url, headers=root)).status_code == 204
    gone = await client.get(url, headers=root)
    assert gone.status_code == 404
    assert gone.json()["error"]["param"] == "model_id"
    assert await stored_backends(control_app, model["id"]) == []


async def test_prices_are_stored_as_integer_micro_dollars(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    model = await create_model(client, world, input_price_per_mtok=0.15, output_price_per_mtok=2)
    stored = await stored_model(control_app, model["id"])
    assert stored is not None
    assert stored.input_price_micros_per_mtok == 150_000
    assert stored.output_price_micros_per_mtok == 2_000_000
    assert stored.cached_input_price_micros_per_mtok is None


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"input_price_per_mtok": -0.01}, "input_price_per_mtok"),
        ({"output_price_per_mtok": -1}, "output_price_per_mtok"),
        ({"cached_input_price_per_mtok": -1}, "cached_input_price_per_mtok"),
        ({"context_length": 0}, "context_length"),
        ({"kind": "image"}, "kind"),
        ({"name": "has spaces"}, "name"),
        ({"name": "semi;colon"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"upstream_model": "   "}, "upstream_model"),
        ({"owner": "me"}, "owner"),
    ],
)
async def test_bad_model_fields_are_400_and_write_nothing(
    client: httpx.AsyncClient,
    world: World,
    control_app: ASGIApp,
    overrides: dict[str, Any],
    param: str,
) -> None:
    body = model_body(**overrides)
    response = await client.post(MODELS, json=body, headers=world["super_admin"].headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    async with control_context(control_app).db.session() as session:
        assert (
            await session.scalar(select(ModelEntry).where(ModelEntry.name == body["name"])) is None
        )


async def test_missing_prices_are_400(client: httpx.AsyncClient, world: World) -> None:
    body = model_body()
    del body["output_price_per_mtok"]
    response = await client.post(MODELS, json=body, headers=world["super_admin"].headers)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "output_price_per_mtok"


async def test_duplicate_names_are_409_on_create_and_rename(
    client: httpx.AsyncClient, world: World
) -> None:
    root = world["super_admin"].headers
    first = await create_model(client, world)
    second = await create_model(client, world)
    again = await client.post(MODELS, json=model_body(name=first["name"]), headers=root)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "model_exists"
    assert first["name"] in again.json()["error"]["message"]
    rename = await client.patch(
        f"{MODELS}/{second['id']}", json={"name": first["name"]}, headers=root
    )
    assert rename.status_code == 409
    unchanged = (await client.get(f"{MODELS}/{second['id']}", headers=root)).json()
    assert unchanged["name"] == second["name"]
    same = await client.patch(f"{MODELS}/{first['id']}", json={"name": first["name"]}, headers=root)
    assert same.status_code == 200


@pytest.mark.parametrize("field", ["name", "kind", "input_price_per_mtok", "enabled"])
async def test_patch_refuses_null_for_required_fields(
    client: httpx.AsyncClient, world: World, field: str
) -> None:
    model = await create_model(client, world)
    response = await client.patch(
        f"{MODELS}/{model['id']}", json={field: None}, headers=world["super_admin"].headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == field


async def test_unknown_model_is_404(client: httpx.AsyncClient, world: World) -> None:
    root = world["super_admin"].headers
    missing = f"{MODELS}/{uuid.uuid4()}"
    assert (await client.get(missing, headers=root)).status_code == 404
    assert (await client.patch(missing, json={"enabled": False}, headers=root)).status_code == 404
    assert (await client.delete(missing, headers=root)).status_code == 404
    response = await client.post(f"{missing}/backends", json={"url": "http://x:1"}, headers=root)
    assert response.status_code == 404


async def test_backend_api_key_is_encrypted_and_never_shown(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    root = world["super_admin"].headers
    model = await create_model(client, world)
    response = await client.post(
        f"{MODELS}/{model['id']}/backends",
        json={"url": "https://gpu.example.com/v1/", "api_key": UPSTREAM_KEY},
        headers=root,
    )
    assert response.status_code == 201, response.text
    backend = response.json()
    assert backend["url"] == "https://gpu.example.com/v1"
    assert backend["has_api_key"] is True
    assert backend["weight"] == 1
    assert UPSTREAM_KEY not in response.text
    for read in (f"{MODELS}/{model['id']}", MODELS):
        assert UPSTREAM_KEY not in (await client.get(read, headers=root)).text

    [stored] = await stored_backends(control_app, model["id"])
    assert stored.api_key_encrypted is not None
    assert UPSTREAM_KEY not in stored.api_key_encrypted
    settings = control_context(control_app).settings
    assert Encryptor(settings.secret("encryption_key")).decrypt(stored.api_key_encrypted) == (
        UPSTREAM_KEY
    )
    for entry in await audit_of(control_app, backend["id"]):
        assert UPSTREAM_KEY not in orjson.dumps(entry.details).decode()


async def test_backend_urls_are_validated_and_deduplicated(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    root = world["super_admin"].headers
    model = await create_model(client, world)
    backends = f"{MODELS}/{model['id']}/backends"
    for url in ("ftp://x", "http://user:pass@host", "http://", "not a url", "http://h/?q=1"):
        response = await client.post(backends, json={"url": url}, headers=root)
        assert response.status_code == 400, url
        assert response.json()["error"]["param"] == "url"
        assert "pass@" not in response.json()["error"]["message"]
    first = await client.post(backends, json={"url": "http://10.0.0.5:8000/v1"}, headers=root)
    assert first.status_code == 201
    again = await client.post(backends, json={"url": "HTTP://10.0.0.5:8000/v1/"}, headers=root)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "backend_exists"
    for weight in (0, 1001, "heavy"):
        bad = await client.post(
            backends, json={"url": "http://b:1", "weight": weight}, headers=root
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "weight"
    assert len(await stored_backends(control_app, model["id"])) == 1


async def test_backends_are_updated_and_removed_only_under_their_model(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    root = world["super_admin"].headers
    model, other = await create_model(client, world), await create_model(client, world)
    backend = await add_backend(client, world, model["id"], api_key=UPSTREAM_KEY)
    foreign = f"{MODELS}/{other['id']}/backends/{backend['id']}"
    assert (await client.delete(foreign, headers=root)).status_code == 404
    assert (await client.patch(foreign, json={"weight": 2}, headers=root)).status_code == 404

    own = f"{MODELS}/{model['id']}/backends/{backend['id']}"
    updated = await client.patch(
        own, json={"weight": 7, "enabled": False, "api_key": None}, headers=root
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["weight"] == 7
    assert updated.json()["enabled"] is False
    assert updated.json()["has_api_key"] is False
    assert (await client.delete(own, headers=root)).status_code == 204
    assert (await client.delete(own, headers=root)).status_code == 404
    assert await stored_backends(control_app, model["id"]) == []


async def test_every_change_is_audited_without_secrets(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    root = world["super_admin"]
    model = await create_model(client, world)
    backend = await add_backend(client, world, model["id"], api_key=UPSTREAM_KEY)
    url = f"{MODELS}/{model['id']}"
    await client.patch(url, json={"input_price_per_mtok": 0.2}, headers=root.headers)
    await client.delete(f"{url}/backends/{backend['id']}", headers=root.headers)
    await client.delete(url, headers=root.headers)

    model_entries = await audit_of(control_app, model["id"])
    assert [e.action for e in model_entries] == ["model.created", "model.updated", "model.deleted"]
    changes = model_entries[1].details["changes"]
    assert changes == {"input_price_per_mtok": {"from": 0.15, "to": 0.2}}
    backend_entries = await audit_of(control_app, backend["id"])
    assert [e.action for e in backend_entries] == ["backend.added", "backend.removed"]
    assert backend_entries[0].details["has_key"] is True
    for entry in model_entries + backend_entries:
        assert entry.actor_user_id == root.id
        assert entry.ip == "203.0.113.7"
        assert entry.org_id is None
        assert UPSTREAM_KEY not in orjson.dumps(entry.details).decode()


async def test_a_patch_that_changes_nothing_is_not_audited(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    model = await create_model(client, world)
    response = await client.patch(
        f"{MODELS}/{model['id']}", json={"kind": "chat"}, headers=world["super_admin"].headers
    )
    assert response.status_code == 200
    assert [e.action for e in await audit_of(control_app, model["id"])] == ["model.created"]


@pytest.mark.parametrize(
    "who", ["owner", "admin", "member", "viewer", "other_owner", "stranger", None]
)
async def test_only_super_admins_touch_the_registry(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp, who: str | None
) -> None:
    model = await create_model(client, world)
    backend = await add_backend(client, world, model["id"])
    one = f"{MODELS}/{model['id']}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", MODELS, model_body()),
        ("GET", MODELS, None),
        ("GET", one, None),
        ("PATCH", one, {"enabled": False}),
        ("DELETE", one, None),
        ("POST", f"{one}/backends", {"url": "http://10.9.9.9:8000"}),
        ("PATCH", f"{one}/backends/{backend['id']}", {"weight": 9}),
        ("DELETE", f"{one}/backends/{backend['id']}", None),
    ]
    headers = world[who].headers if who else {}
    expected = 403 if who else 401
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == expected, (method, path)
        assert response.json()["error"]["type"] in ("permission_error", "authentication_error")
    after = (await client.get(one, headers=world["super_admin"].headers)).json()
    assert after["enabled"] is True
    assert [(b["id"], b["weight"]) for b in after["backends"]] == [(backend["id"], 1)]
    assert [e.action for e in await audit_of(control_app, model["id"])] == ["model.created"]


async def test_catalog_shows_enabled_models_without_backend_details(
    client: httpx.AsyncClient, world: World
) -> None:
    shown = await create_model(client, world, cached_input_price_per_mtok=0.05)
    defaulted = await create_model(client, world, kind="embedding", context_length=None)
    hidden = await create_model(client, world, enabled=False)
    await add_backend(client, world, shown["id"], api_key=UPSTREAM_KEY)

    for who in ("viewer", "stranger", "other_owner", "super_admin"):
        response = await client.get("/api/models", headers=world[who].headers)
        assert response.status_code == 200
        entries = {entry["id"]: entry for entry in response.json()["data"]}
        assert hidden["name"] not in entries
        assert entries[shown["name"]] == {
            "id": shown["name"],
            "kind": "chat",
            "context_length": 8192,
            "pricing": {
                "input_per_mtok_usd": 0.15,
                "output_per_mtok_usd": 0.6,
                "cached_input_per_mtok_usd": 0.05,
            },
        }
        assert entries[defaulted["name"]]["pricing"]["cached_input_per_mtok_usd"] == 0.15
        assert entries[defaulted["name"]]["context_length"] is None
        for secret in ("Llama-3.1-8B-Instruct", "10.0.0.", UPSTREAM_KEY, "backends"):
            assert secret not in response.text


async def test_catalog_follows_enable_and_disable(client: httpx.AsyncClient, world: World) -> None:
    model = await create_model(client, world)
    root, viewer = world["super_admin"].headers, world["viewer"].headers

    async def listed() -> bool:
        data = (await client.get("/api/models", headers=viewer)).json()["data"]
        return model["name"] in [entry["id"] for entry in data]

    assert await listed()
    await client.patch(f"{MODELS}/{model['id']}", json={"enabled": False}, headers=root)
    assert not await listed()


async def test_catalog_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/models")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


@dataclass
class Listener:
    """A second process listening on the models channel, as a router does."""

    messages: list[bytes] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    on_message: Callable[[], None] | None = None

    def __call__(self, message: bytes) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            self.on_message()
        self.arrived.set()


@pytest.fixture
async def listener(control_app: ASGIApp) -> AsyncIterator[Listener]:
    settings = control_context(control_app).settings
    redis = redis_client(settings)
    notifier = build_notifier(settings, redis)
    assert isinstance(notifier, RedisNotifier)
    heard = Listener()
    notifier.subscribe(MODELS_CHANNEL, heard)
    await notifier.start()
    yield heard
    await notifier.close()
    assert redis is not None
    await redis.aclose()


@pytest.mark.redis
async def test_changes_tell_routers_to_reload_models_after_commit(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp, listener: Listener
) -> None:
    database = control_context(control_app).db
    name = f"announced-{uuid.uuid4().hex[:8]}"
    checks: list[asyncio.Task[bool]] = []

    async def visible() -> bool:
        async with database.session() as session:
            found = await session.scalar(select(ModelEntry.id).where(ModelEntry.name == name))
        return found is not None

    # What a router reloads when it hears the message must already be committed.
    listener.on_message = lambda: checks.append(asyncio.ensure_future(visible()))
    await create_model(client, world, name=name)
    await asyncio.wait_for(listener.arrived.wait(), timeout=5)
    assert listener.messages == [FLUSH.encode()]
    assert await asyncio.gather(*checks) == [True]


@pytest.mark.redis
async def test_every_kind_of_change_is_announced_and_refusals_are_not(
    client: httpx.AsyncClient, world: World, listener: Listener
) -> None:
    root = world["super_admin"].headers
    model = await create_model(client, world)
    backend = await add_backend(client, world, model["id"])
    url = f"{MODELS}/{model['id']}"
    refused = await client.post(MODELS, json=model_body(name=model["name"]), headers=root)
    assert refused.status_code == 409
    await client.patch(url, json={"enabled": False}, headers=root)
    await client.patch(f"{url}/backends/{backend['id']}", json={"weight": 5}, headers=root)
    await client.delete(f"{url}/backends/{backend['id']}", headers=root)
    await client.delete(url, headers=root)
    for _ in range(50):
        if len(listener.messages) >= 6:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # room for a stray seventh message to show up
    assert listener.messages == [FLUSH.encode()] * 6
