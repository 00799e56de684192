"""The control plane's metrics as a Prometheus server scrapes them from `/metrics`.

Each test scrapes before and after what it does and asserts the exact change, so counts left
by other tests in the same process do not matter.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ias.app import create_app
from ias.kit.passwords import hash_password
from ias.migrations import runner
from ias.models import User
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.asgi import lifespan
from tests.conftest import REDIS_URL
from tests.integration.control.conftest import (
    PASSWORD,
    Person,
    WorldBuilder,
    control_context,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

Labels = dict[str, str]


class Scrape:
    """One scrape of `/metrics`: sample values by name and labels, 0 for absent series."""

    def __init__(self, text: str) -> None:
        self._values = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        return self._values.get((name, frozenset(labels.items())), 0.0)

    def series(self, name: str) -> list[Labels]:
        return [dict(labels) for sample, labels in self._values if sample == name]


async def _scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return Scrape(response.text)


def _delta(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
async def control_app(
    postgres_url: str, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    await runner.upgrade(postgres_url)
    settings = resolve_secrets(
        Settings(
            home=tmp_path / "home",
            database_url=postgres_url,
            redis_url=REDIS_URL,
            redis_key_prefix=f"test-{uuid.uuid4().hex[:12]}:",
        )
    )
    app = create_app(settings, "control")
    async with lifespan(app):
        yield app


@pytest.fixture
async def client(control_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=control_app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def builder(control_app: Any, password_hash: str) -> WorldBuilder:
    return WorldBuilder(control_context(control_app), password_hash)


@pytest.fixture
async def member(builder: WorldBuilder) -> Person:
    org = await builder.org("Initech")
    return await builder.person("member", memberships={org: "member"})


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_requests_are_labelled_by_route_template_not_path(
    client: httpx.AsyncClient, member: Person
) -> None:
    before = await _scrape(client)
    assert (await client.get("/api/me", headers=member.headers)).status_code == 200
    unknown_orgs = [uuid.uuid4(), uuid.uuid4()]
    for org_id in unknown_orgs:
        unknown = await client.get(f"/api/orgs/{org_id}", headers=member.headers)
        assert unknown.status_code == 404
    assert (await client.get("/api/no-such-endpoint")).status_code == 404
    assert (await client.get("/api/me/", headers=member.headers)).status_code == 307
    assert (await client.get("/api/openapi.json")).status_code == 200
    after = await _scrape(client)

    requests = "ias_control_requests_total"
    assert _delta(before, after, requests, method="GET", route="/api/me", status="200") == 1
    org = "/api/orgs/{org_id}"
    assert _delta(before, after, requests, method="GET", route=org, status="404") == 2
    assert _delta(before, after, requests, method="GET", route="unmatched", status="404") == 1
    assert _delta(before, after, requests, method="GET", route="unmatched", status="307") == 1
    openapi = "/api/openapi.json"
    assert _delta(before, after, requests, method="GET", route=openapi, status="200") == 1
    duration = "ias_control_request_duration_seconds_count"
    assert _delta(before, after, duration, method="GET", route="/api/me") == 1
    assert _delta(before, after, duration, method="GET", route=org) == 2
    assert after.value("ias_control_request_duration_seconds_sum", method="GET", route=org) > 0
    # Only templates: no raw path, and so no id, ever becomes a label.
    routes = {labels["route"] for labels in after.series(requests)}
    assert all(route == "unmatched" or route.startswith("/api/") for route in routes)
    raw = {"/api/no-such-endpoint", *(f"/api/orgs/{org_id}" for org_id in unknown_orgs)}
    assert not routes & raw


async def test_an_unknown_method_is_folded_into_other(client: httpx.AsyncClient) -> None:
    before = await _scrape(client)
    assert (await client.request("BREW", "/api/me")).status_code == 405
    after = await _scrape(client)

    delta = _delta(
        before, after, "ias_control_requests_total", method="other", route="/api/me", status="405"
    )
    assert delta == 1


async def test_a_wrong_password_counts_as_bad_credentials(
    client: httpx.AsyncClient, member: Person
) -> None:
    before = await _scrape(client)
    assert (await _login(client, member.email, "not the password")).status_code == 401
    assert (await _login(client, "nobody-at-all@example.com", "whatever")).status_code == 401
    assert (await _login(client, member.email, PASSWORD)).status_code == 200
    after = await _scrape(client)

    failed = "ias_control_failed_logins_total"
    assert _delta(before, after, failed, reason="bad_credentials") == 2
    assert _delta(before, after, failed, reason="throttled") == 0
    assert _delta(before, after, failed, reason="disabled") == 0
    login = {"method": "POST", "route": "/api/auth/login"}
    assert _delta(before, after, "ias_control_requests_total", status="401", **login) == 2
    assert _delta(before, after, "ias_control_requests_total", status="200", **login) == 1


async def test_a_throttled_sign_in_counts_as_throttled(
    client: httpx.AsyncClient, member: Person
) -> None:
    before = await _scrape(client)
    for _ in range(10):
        assert (await _login(client, member.email, "wrong password 123")).status_code == 401
    assert (await _login(client, member.email, PASSWORD)).status_code == 429
    after = await _scrape(client)

    failed = "ias_control_failed_logins_total"
    assert _delta(before, after, failed, reason="bad_credentials") == 10
    assert _delta(before, after, failed, reason="throttled") == 1
    login = {"method": "POST", "route": "/api/auth/login"}
    assert _delta(before, after, "ias_control_requests_total", status="429", **login) == 1


async def test_a_disabled_account_counts_as_disabled(
    client: httpx.AsyncClient, builder: WorldBuilder, member: Person
) -> None:
    async with builder.context.db.unit_of_work() as session:
        user = await session.get(User, member.id)
        assert user is not None
        user.disabled = True
    before = await _scrape(client)
    assert (await _login(client, member.email, PASSWORD)).status_code == 401
    after = await _scrape(client)

    failed = "ias_control_failed_logins_total"
    assert _delta(before, after, failed, reason="disabled") == 1
    assert _delta(before, after, failed, reason="bad_credentials") == 0
