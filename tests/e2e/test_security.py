"""The attack scenarios S1 to S8 of RELIABILITY_SECURITY.md, against the production-shaped stack.

Every process runs as in production (two routers, the control plane, the usage worker, two mock
engines; PostgreSQL, Redis and RabbitMQ), and the attacks arrive as attackers send them: over
real sockets, through the `openai` SDK, httpx, or bytes written by hand. Each test names its
scenario and the figure it asserts. The module shares one stack; every test makes its own
tenants and people and leaves the stack serving. Sign-in attempts that are meant to fail come
from addresses of their own (`x-forwarded-for`, trusted from loopback), so the per-address
throttle they trip never locks out another test.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from ias.contracts.api_keys import generate_key
from ias.control.auth.service import ACCOUNT_FAILURE_LIMIT, IP_FAILURE_LIMIT
from tests.e2e import hostile
from tests.e2e.evidence import (
    files_on_disk,
    is_one_json_object,
    log_lines,
    peak_growth,
    resident_bytes,
    scan_sources,
    stored_rows,
)
from tests.e2e.faults import FaultProxy, Traffic
from tests.e2e.hostile import CHAT, is_error_envelope, raw_connection, read_available, request_head
from tests.e2e.injection import field_sweep, header_sweep
from tests.e2e.matrix import HttpScene, cross_org_problems, run_matrix
from tests.e2e.people import (
    api_client,
    bearer,
    delete_models,
    join,
    login,
    model_body,
    ok,
    refresh,
)
from tests.e2e.stack import MODEL, Stack
from tests.e2e.tour import HANDED_OUT, secrets_tour
from tests.leaks import find_secrets, refresh_token_of
from tests.permission_matrix import routes_not_covered

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]

MESSAGES: Any = [{"role": "user", "content": "hi"}]
REPO = Path(__file__).resolve().parents[2]
DEADLINE_MARGIN = 1.5  # seconds a server may take beyond a deadline to act on it


def _setting(stack: Stack, name: str) -> float:
    return float(stack.env[name])


@contextlib.asynccontextmanager
async def _client(connections: int = 48) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        yield client


async def _send_all(
    client: httpx.AsyncClient, requests: list[httpx.Request], concurrency: int = 48
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(concurrency)

    async def one(request: httpx.Request) -> httpx.Response:
        async with gate:
            return await client.send(request)

    return await asyncio.gather(*(one(request) for request in requests))


async def _chat_status(stack: Stack, router: str, key: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        url = stack.v1(router) + "/chat/completions"
        return (await client.post(url, json=CHAT, headers=bearer(key))).status_code


# === S1: invalid API keys and credential stuffing ===============================================

ROUTER_DATABASE = "postgres-router"
# The routers' only periodic database write (`last_used_interval_seconds`, its default).
LAST_USED_SECONDS = 5.0


def _restart_catalog_timers(stack: Stack) -> None:
    """Announce a model change: both routers re-read the catalog now, which restarts the
    periodic re-read they fall back on (30 s), so it cannot land in the measurement."""
    with stack.admin() as api:
        created = ok(api.post("/admin/models", json=model_body("s1")))
        ok(api.delete(f"/admin/models/{created['id']}"))


async def _quiet_router_database(stack: Stack) -> None:
    """Return once the routers' database link has been silent for longer than any periodic
    write of theirs: from then on, every byte on it is caused by the requests under test."""
    _restart_catalog_timers(stack)
    proxy = stack.proxies[ROUTER_DATABASE]
    last, since = proxy.snapshot(), time.monotonic()
    give_up = since + 30
    while time.monotonic() - since < LAST_USED_SECONDS + 0.5:
        assert time.monotonic() < give_up, "the routers never stopped talking to PostgreSQL"
        await asyncio.sleep(0.2)
        if (now := proxy.snapshot()) != last:
            last, since = now, time.monotonic()


def _key_checks(stack: Stack, authorization: str | None) -> list[httpx.Request]:
    """One request per router and per kind of `/v1` call, each carrying `authorization`."""
    headers = {} if authorization is None else {"authorization": authorization}
    requests = []
    for name in stack.routers:
        v1 = stack.v1(name)
        requests += [
            httpx.Request("GET", v1 + "/models", headers=headers),
            httpx.Request("GET", f"{v1}/models/{MODEL}", headers=headers),
            httpx.Request("POST", v1 + "/chat/completions", headers=headers, json=CHAT),
        ]
    return requests


def _moved(before: Traffic, after: Traffic) -> int:
    return int(after.bytes_up - before.bytes_up + after.bytes_down - before.bytes_down)


@pytest.mark.timeout(90)
async def test_s1_malformed_keys_are_refused_without_a_database_round_trip(stack: Stack) -> None:
    """S1: a concurrent flood of >= 1,000 malformed API keys (wrong prefix, length, alphabet or
    checksum, empty, huge, `Bearer ' OR '1'='1`) at both routers: 100% answered 401 in the
    OpenAI envelope, and 0 bytes through the routers' PostgreSQL link. A well-formed unknown
    key is looked up once per router (the link shows it), then refused from the negative
    cache: 200 more attempts, 0 bytes."""
    variants = hostile.malformed_authorizations(stack.tenant().key).values()
    rounds = -(-1000 // (len(variants) * 6))  # 6 requests per variant and round
    flood = [r for _ in range(rounds) for auth in variants for r in _key_checks(stack, auth)]
    unknown = f"Bearer {generate_key()}"
    proxy = stack.proxies[ROUTER_DATABASE]
    async with _client() as client:
        await _quiet_router_database(stack)
        before = proxy.snapshot()
        answers = await _send_all(client, flood)
        after_flood = proxy.snapshot()
        first = await _send_all(client, _key_checks(stack, unknown)[::3])  # once per router
        looked_up = proxy.snapshot()
        again = [r for _ in range(34) for r in _key_checks(stack, unknown)]
        repeats = await _send_all(client, again)
        after_repeats = proxy.snapshot()

    assert len(flood) >= 1000
    assert {answer.status_code for answer in answers} == {401}
    assert all(is_error_envelope(answer) for answer in answers)
    assert _moved(before, after_flood) == 0
    assert len(repeats) >= 200
    assert {answer.status_code for answer in first + repeats} == {401}
    assert _moved(after_flood, looked_up) > 0
    assert _moved(looked_up, after_repeats) == 0


async def _attempt(api: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    body = {"email": email, "password": password}
    return await api.post("/auth/login", json=body, headers={"x-forwarded-for": ip})


async def test_s1_wrong_passwords_for_one_account_lock_that_account(stack: Stack) -> None:
    """S1: 10 wrong passwords for one account, each from another address: all 401; then even
    the right password is refused, 429 with a Retry-After of at most 15 minutes, while
    another account signs in as usual."""
    org = stack.tenant().org_id
    async with api_client(stack) as api:
        victim = await join(api, stack.admin_token, org, "member", sign_in=False)
        bystander = await join(api, stack.admin_token, org, "member", sign_in=False)
        failures = [
            await _attempt(api, victim.email, f"guess-{n}-password", f"198.51.100.{n}")
            for n in range(1, ACCOUNT_FAILURE_LIMIT + 1)
        ]
        locked = await _attempt(api, victim.email, victim.password, "198.51.100.250")
        other = await _attempt(api, bystander.email, bystander.password, "198.51.100.1")

    assert [failure.status_code for failure in failures] == [401] * ACCOUNT_FAILURE_LIMIT
    assert locked.status_code == 429, locked.text
    assert is_error_envelope(locked)
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
    assert other.status_code == 200, other.text


async def _timed_refusal(
    api: httpx.AsyncClient, email: str, password: str, ip: str
) -> tuple[float, bytes]:
    started = time.perf_counter()
    answer = await _attempt(api, email, password, ip)
    assert answer.status_code == 401, answer.text
    return time.perf_counter() - started, answer.content


@pytest.mark.timeout(90)
async def test_s1_credential_stuffing_is_throttled_per_address_and_reveals_no_account(
    stack: Stack,
) -> None:
    """S1: credential stuffing from one address across many accounts: 100 failures answered
    401, then that address gets 429 even with a right password, while another address signs
    the same account in. An unknown email and a wrong password for a known one get the same
    status and byte-identical bodies, in comparable time (medians within a factor of 3): an
    unknown email pays the password hash too."""
    org = stack.tenant().org_id
    stuffer, elsewhere = "203.0.113.66", "203.0.113.67"
    async with api_client(stack) as api:
        known = [await join(api, stack.admin_token, org, "member", sign_in=False) for _ in "ab"]
        unknown_times, wrong_times, bodies = [], [], set()
        for n in range(8):  # interleaved and one at a time, so both see the same load
            stranger = f"nobody-{uuid.uuid4().hex}@example.com"
            took, body = await _timed_refusal(api, stranger, "x" * 16, stuffer)
            unknown_times.append(took)
            bodies.add(body)
            took, body = await _timed_refusal(api, known[n % 2].email, f"wrong-{n}-pass", stuffer)
            wrong_times.append(took)
            bodies.add(body)
        emails = [
            f"victim-{uuid.uuid4().hex[:8]}@example.com" for _ in range(IP_FAILURE_LIMIT - 16)
        ]
        stuffed = await asyncio.gather(*(_attempt(api, e, "Summer2024!", stuffer) for e in emails))
        blocked = await _attempt(api, known[0].email, known[0].password, stuffer)
        unaffected = await _attempt(api, known[0].email, known[0].password, elsewhere)

    assert len(bodies) == 1, bodies
    assert {answer.status_code for answer in stuffed} == {401}
    assert blocked.status_code == 429, blocked.text
    assert int(blocked.headers["retry-after"]) >= 1
    assert unaffected.status_code == 200, unaffected.text
    ratio = statistics.median(unknown_times) / statistics.median(wrong_times)
    assert 1 / 3 < ratio < 3, (unknown_times, wrong_times)


# === S2: forged access tokens, refresh-token reuse ==============================================


async def test_s2_forged_access_tokens_are_all_refused(stack: Stack) -> None:
    """S2: 36 forged access tokens (alg none, wrong or another server secret, RS256 and HS/RS
    confusion, HS512, expired, nbf or iat in the future, wrong aud or iss, each required claim
    missing, tampered payload or header, unknown user or session, jku and kid tricks, garbage)
    and a good token under other schemes, against GET /api/me: 100% 401 in the envelope, and
    the jku URL is never fetched. The same claims signed with the right secret are accepted,
    so each refusal is down to its one defect."""
    secret = stack.env["IAS_JWT_SECRET"].encode()
    async with api_client(stack) as api:
        person = await join(api, stack.admin_token, stack.tenant().org_id, "member")
        root = ok(await api.get("/me", headers=bearer(stack.admin_token)))["id"]
        with hostile.listener() as jwks:
            jwks_url = f"http://127.0.0.1:{jwks.getsockname()[1]}/.well-known/jwks.json"
            other_secret = stack.env["IAS_API_KEY_SECRET"].encode()
            forged = hostile.forged_tokens(person.token, secret, other_secret, root, jwks_url)
            answers = {name: await api.get("/me", headers=bearer(t)) for name, t in forged.items()}
            fetched = hostile.connections_to(jwks)
        schemes = {s: f"{s} {person.token}" for s in ("Token", "Basic", "JWT")}
        for scheme, header in schemes.items():
            answers[scheme] = await api.get("/me", headers={"authorization": header})
        claims = hostile.claims_of(person.token) | {"jti": uuid.uuid4().hex}
        remade = hostile.hs256({"alg": "HS256", "typ": "JWT"}, claims, secret)
        accepted = await api.get("/me", headers=bearer(remade))

    assert len(forged) >= 35
    assert {name: a.status_code for name, a in answers.items() if a.status_code != 401} == {}
    assert all(is_error_envelope(answer) for answer in answers.values())
    assert fetched == 0
    assert accepted.status_code == 200
    assert accepted.json()["id"] == person.user_id


async def test_s2_reusing_a_rotated_refresh_token_revokes_its_whole_family(stack: Stack) -> None:
    """S2: refresh once (rotation), then present the old refresh cookie again: 401
    `refresh_token_reused`, and the whole family dies with it: the new refresh token and both
    access tokens of the family are refused, while another sign-in of the same person (its
    own family) keeps working."""
    async with api_client(stack) as api:
        org = stack.tenant().org_id
        person = await join(api, stack.admin_token, org, "member", sign_in=False)
        credentials = {"email": person.email, "password": person.password}
        signed_in = await api.post("/auth/login", json=credentials)
        elsewhere = await login(api, person.email, person.password)
        old = refresh_token_of(signed_in)
        rotated = await refresh(api, old)
        reused = await refresh(api, old)
        after_reuse = await refresh(api, refresh_token_of(rotated))
        family = (signed_in.json()["access_token"], rotated.json()["access_token"])
        access = [(await api.get("/me", headers=bearer(t))).status_code for t in family]
        other = await api.get("/me", headers=bearer(elsewhere["access_token"]))

    assert rotated.status_code == 200, rotated.text
    assert refresh_token_of(rotated) != old
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    assert after_reuse.status_code == 401, after_reuse.text
    assert access == [401, 401]
    assert other.status_code == 200


# === S3: every endpoint x every caller; cross-org; grants =======================================


async def _model_ids(api: httpx.AsyncClient, stack: Stack) -> set[str]:
    models = ok(await api.get("/admin/models", headers=bearer(stack.admin_token)))
    return {str(model["id"]) for model in models}


@pytest.mark.timeout(120)
async def test_s3_every_endpoint_answers_every_caller_as_the_matrix_says(stack: Stack) -> None:
    """S3: every `/api` operation of the permission matrix (tests/permission_matrix.py, which
    covers every route the live control plane serves) x {anonymous, viewer, member, admin,
    owner, owner of another org, super admin, stranger, API key as bearer}, over HTTP, with
    people who joined through invites: 0 answers off the matrix, every refusal in the envelope.
    Org B's owner gets 404 for each of org A's objects, changes nothing there and lists only
    org B."""
    async with api_client(stack) as api:
        served = ok(await api.get("/openapi.json"))["paths"]
        routes = {(method.upper(), "/api" + path) for path, ops in served.items() for method in ops}
        scene = await HttpScene.build(api)
        key_body = {"name": "as bearer"}
        owner = scene.people["owner"].headers
        key = ok(await api.post(f"/orgs/{scene.org_a}/api-keys", json=key_body, headers=owner))
        models_before = await _model_ids(api, stack)
        cross_org = await cross_org_problems(scene)
        mismatches = await run_matrix(stack.control.url, scene, key["key"])
        await delete_models(api, stack.admin_token, await _model_ids(api, stack) - models_before)

    assert routes_not_covered(routes) == (set(), set())
    assert cross_org == []
    assert mismatches == []


async def test_s3_an_api_key_is_billed_to_its_own_org_whatever_it_claims(stack: Stack) -> None:
    """S3, router side: org A's key asking in org B's name (the SDK's `organization` and
    `project`: OpenAI-Organization and OpenAI-Project headers) through both routers: served,
    every usage row is org A's and names A's key, org B has 0 rows. The same key on /api (org
    B's usage, or A's own) is 401: a key never reads usage."""
    a, b = stack.tenant(), stack.tenant()
    for router in stack.routers:
        async with openai.AsyncOpenAI(
            base_url=stack.v1(router), api_key=a.key, organization=b.org_id, project=b.org_id
        ) as client:
            await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=3)
    rows = await stack.wait_for_rows(a.org_id, len(stack.routers))
    billed = await stack.fetch(
        "SELECT DISTINCT org_id::text, api_key_id::text FROM usage_events "
        "WHERE org_id = ANY($1::uuid[])",
        [a.org_id, b.org_id],
    )
    async with httpx.AsyncClient(base_url=stack.api, headers=bearer(a.key)) as api:
        reads = [(await api.get(f"/orgs/{org}/usage")).status_code for org in (b.org_id, a.org_id)]

    assert len(rows) == len(stack.routers)
    assert [tuple(row) for row in billed] == [(a.org_id, a.key_id)]
    assert reads == [401, 401]


async def _refused_everywhere(stack: Stack, key: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if {await _chat_status(stack, router, key) for router in stack.routers} == {401}:
            return True
        await asyncio.sleep(0.2)
    return False


async def test_s3_keys_and_invites_never_grant_more_than_their_creator_holds(stack: Stack) -> None:
    """S3: an admin can neither invite nor promote anyone to admin or owner (403), a key cannot
    allow more than its org (400 `above_org_limit`), an invite grants exactly its role (a
    viewer, who may not make keys: 403); a member's key works on both routers until the member
    is demoted to viewer, then both routers refuse it within 3 s."""
    tenant = stack.tenant()
    org = tenant.org_id
    with stack.admin() as root:
        ok(root.patch(f"/admin/orgs/{org}/limits", json={"rpm": 100}))
    async with api_client(stack) as api:
        admin = await join(api, stack.admin_token, org, "admin")
        member = await join(api, stack.admin_token, org, "member")
        viewer = await join(api, admin.token, org, "viewer")
        as_admin = partial(api.request, headers=admin.headers)
        invites = [
            await as_admin("POST", f"/orgs/{org}/invites", json={"email": f"{r}@x.io", "role": r})
            for r in ("owner", "admin", "member")
        ]
        members = f"/orgs/{org}/members"
        promotions = [
            await as_admin("PATCH", f"{members}/{who.user_id}", json={"role": role})
            for who, role in ((member, "admin"), (member, "owner"), (admin, "owner"))
        ]
        keys = f"/orgs/{org}/api-keys"
        greedy = await api.post(keys, json={"name": "g", "rpm_limit": 1000}, headers=member.headers)
        of_viewer = await api.post(keys, json={"name": "v"}, headers=viewer.headers)
        joined = ok(await api.get("/me", headers=viewer.headers))["memberships"]
        key = ok(await api.post(keys, json={"name": "m"}, headers=member.headers))["key"]
        served = [await _chat_status(stack, router, key) for router in stack.routers]
        ok(await as_admin("PATCH", f"{members}/{member.user_id}", json={"role": "viewer"}))
        refused = await _refused_everywhere(stack, key, within=3.0)

    assert [answer.status_code for answer in invites] == [403, 403, 201]
    assert [answer.status_code for answer in promotions] == [403, 403, 403]
    assert (greedy.status_code, greedy.json()["error"]["code"]) == (400, "above_org_limit")
    assert [membership["role"] for membership in joined] == ["viewer"]
    assert of_viewer.status_code == 403
    assert served == [200, 200]
    assert refused


# === S4: injection in every field and header ====================================================


@pytest.mark.timeout(120)
async def test_s4_injection_payloads_are_stored_as_text_or_refused(stack: Stack) -> None:
    """S4: SQL, template, shell, format-string, CR/LF, log-line, NUL, path, JSON-in-string and
    long unicode payloads in org and key names, invite email and role, usage query parameters,
    the invite token, login email and password, the /v1 model name, and in the Authorization,
    x-request-id, traceparent and content-type headers of /v1 and /api: 0 5xx, 0 requests let
    in without credentials, names stored byte for byte (`{{7*7}}` stays `{{7*7}}`), nothing
    executed (no `uid=` anywhere), no header line of the attacker's in a response, a response
    x-request-id always the server's own kind, and every line of every process's log still one
    JSON object."""
    problems, bodies = await field_sweep(stack)
    problems += await asyncio.to_thread(header_sweep, stack)
    logs = log_lines(stack)

    assert problems == []
    assert [t for t in hostile.EVALUATION_TRACES for body in bodies if t in body] == []
    broken = {
        name: [line[:200] for line in lines if not is_one_json_object(line)]
        for name, lines in logs.items()
    }
    assert {name: lines for name, lines in broken.items() if lines} == {}
    everything = "\n".join(line for lines in logs.values() for line in lines)
    assert [trace for trace in hostile.EVALUATION_TRACES if trace in everything] == []


# Where src/ias builds SQL text at run time, and why no input can reach it there.
SQL_BUILT_FROM_CONSTANTS = {
    ("analytics/ledger.py", "<module>"): "the bulk insert's column lists are module constants",
    ("models/partitions.py", "drop_usage_partitions_before"): "names match the partition pattern",
    ("models/partitions.py", "_create_missing"): "DDL for a month computed from a date",
    ("migrations/versions/0001_initial.py", "_create_initial_partitions"): "months from the clock",
    ("migrations/versions/0002_limits.py", "downgrade"): "table names are literals in the file",
}


def test_s4_no_code_is_evaluated_and_no_sql_is_built_from_input() -> None:
    """S4, in the source: no eval/exec/compile, os.system/popen/exec/spawn, subprocess, pickle
    or template engine anywhere in src/ias, and SQL text is built at run time only in the 5
    places listed, from constants or validated names: everywhere else, bound parameters."""
    code, sql = scan_sources(REPO / "src" / "ias")
    assert code == []
    assert sql == set(SQL_BUILT_FROM_CONSTANTS)


# === S5: oversized, malformed and deeply nested bodies ==========================================


@dataclass(frozen=True)
class Plane:
    """A write endpoint of the router's /v1 or the control plane's /api, and its body cap."""

    origin: str
    path: str
    headers: dict[str, str]
    limit: int

    @property
    def url(self) -> str:
        return self.origin + self.path


def _plane(stack: Stack, plane: str) -> Plane:
    if plane == "/v1":
        limit = int(stack.env.get("IAS_ROUTER__MAX_BODY_BYTES", 4 * 1024 * 1024))
        key = bearer(stack.tenant().key)
        return Plane(stack.router_url(), "/v1/chat/completions", key, limit)
    limit = int(stack.env.get("IAS_CONTROL__MAX_BODY_BYTES", 1024 * 1024))
    return Plane(stack.control.url, "/api/orgs", bearer(stack.admin_token), limit)


@pytest.mark.parametrize(
    ("plane", "framing"),
    [
        ("/v1", "content-length"),
        ("/v1", "chunked"),
        ("/api", "content-length"),
        ("/api", "chunked"),
    ],
)
def test_s5_a_body_over_the_cap_is_refused_with_413(stack: Stack, plane: str, framing: str) -> None:
    """S5: a body just over the cap (4 MiB on /v1, 1 MiB on /api), its length declared or sent
    chunked with none: 413 in the OpenAI envelope."""
    target = _plane(stack, plane)
    pieces = hostile.padded_body(target.limit)
    content = b"".join(pieces) if framing == "content-length" else pieces
    headers = target.headers | {"content-type": "application/json"}
    answer = httpx.post(target.url, content=content, headers=headers, timeout=30)
    assert answer.status_code == 413, answer.text
    assert is_error_envelope(answer)


@pytest.mark.parametrize("plane", ["/v1", "/api"])
def test_s5_a_declared_length_over_the_cap_is_refused_at_once(stack: Stack, plane: str) -> None:
    """S5, lying length: a content-length over the cap, then a few bytes and silence: 413
    (`payload_too_large`) within 1.5 s, without waiting for a body that would be refused."""
    target = _plane(stack, plane)
    head = request_head("POST", target.path, target.headers, target.limit + 1)
    with raw_connection(target.origin) as sock:
        sock.sendall(head + b'{"padding": "')
        raw = read_available(sock, wait=1.5)
    assert hostile.status_of(raw) == 413, raw[:300]
    assert b'"payload_too_large"' in raw


@pytest.mark.parametrize("plane", ["/v1", "/api"])
def test_s5_a_body_longer_than_its_declared_length_is_not_read_past_it(
    stack: Stack, plane: str
) -> None:
    """S5, lying length: a content-length of 20 followed by 5 MiB: the server takes 20 bytes
    as the body and the rest as a broken next request: a 4xx or a closed connection, never
    a 2xx or 5xx, and it goes on serving."""
    target = _plane(stack, plane)
    head = request_head("POST", target.path, target.headers, 20)
    with raw_connection(target.origin) as sock:
        hostile.send_regardless(sock, head + b'{"padding": "' + b"a" * 5 * 1024 * 1024)
        raw = read_available(sock, wait=5)
    status = hostile.status_of(raw)
    assert status is None or 400 <= status < 500, raw[:300]
    assert httpx.get(target.origin + "/ready", timeout=10).status_code == 200


WRONG_TYPES = {
    "/v1": {"model": 5, "messages": "hi", "max_tokens": "lots", "stream": "yes"},
    "/api": {"name": ["not", "a", "string"]},
}


@pytest.mark.parametrize("plane", ["/v1", "/api"])
def test_s5_malformed_bodies_are_400_in_the_envelope(stack: Stack, plane: str) -> None:
    """S5: malformed JSON, a truncated body, a non-object, invalid UTF-8, arrays nested
    100,000 deep, objects nested 50,000 deep and wrong types: each 400 in the envelope."""
    target = _plane(stack, plane)
    bodies = hostile.MALFORMED_BODIES | {"wrong types": orjson.dumps(WRONG_TYPES[plane])}
    headers = target.headers | {"content-type": "application/json"}
    with httpx.Client(timeout=30, headers=headers) as client:
        answers = {name: client.post(target.url, content=body) for name, body in bodies.items()}
    wrong = {
        n: a.text[:100]
        for n, a in answers.items()
        if a.status_code != 400 or not is_error_envelope(a)
    }
    assert wrong == {}


MEMORY_BOUND = 50 * 1024 * 1024


@pytest.mark.timeout(120)
async def test_s5_the_routers_memory_stays_bounded_under_hostile_bodies(stack: Stack) -> None:
    """S5: 200 hostile bodies at one router, 8 at a time (100 chunked bodies just over 4 MiB,
    100 arrays nested 100,000 deep): all refused (413, 400), and its resident memory grows by
    less than 50 MB."""
    target = _plane(stack, "/v1")
    url, headers = target.url, target.headers
    oversized = b"".join(hostile.padded_body(target.limit))
    nested = hostile.MALFORMED_BODIES["nested 100,000 deep"]

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(oversized), 256 * 1024):
            yield oversized[start : start + 256 * 1024]

    router = stack.routers["router-a"]
    async with _client(connections=8) as client:
        await client.post(url, content=nested, headers=headers)  # its first parse warms up
        before = resident_bytes(router.pid)
        requests = [
            httpx.Request("POST", url, content=chunked() if n % 2 else nested, headers=headers)
            for n in range(200)
        ]
        answers = await _send_all(client, requests, concurrency=8)
        after = resident_bytes(router.pid)

    assert sorted({answer.status_code for answer in answers}) == [400, 413]
    assert after - before < MEMORY_BOUND, f"grew by {(after - before) / 2**20:.0f} MiB"


HEADER_FLOOD = 64 * 1024 * 1024


def test_s5_oversized_headers_are_refused_in_bounded_memory(stack: Stack) -> None:
    """S5: a request whose headers run to 64 MiB (one header line at loopback speed) to a
    router: 431 (`request_header_fields_too_large`) once they pass IAS_SERVER__MAX_HEADER_BYTES
    (64 KiB), its resident memory never more than 50 MB above where it was (sampled every
    10 ms), and it stays ready."""
    router = stack.routers["router-a"]
    head = b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: "
    with peak_growth(router.pid) as growth, raw_connection(stack.router_url()) as sock:
        hostile.send_regardless(sock, head + b"a" * HEADER_FLOOD + b"\r\n\r\n")
        raw = read_available(sock, wait=_setting(stack, "IAS_SERVER__HEADER_TIMEOUT_SECONDS") + 2)
    assert hostile.status_of(raw) == 431, raw[:200]
    assert b'"code":"request_header_fields_too_large"' in raw
    assert httpx.get(stack.router_url() + "/ready", timeout=10).status_code == 200
    assert growth[0] < MEMORY_BOUND, f"grew by {growth[0] / 2**20:.0f} MiB"


# === S6: slow clients ===========================================================================


def _servers(stack: Stack) -> dict[str, str]:
    return {name: stack.router_url(name) for name in stack.routers} | {"control": stack.control.url}


@pytest.mark.timeout(60)
def test_s6_headers_sent_a_byte_a_second_are_cut_at_the_header_deadline(stack: Stack) -> None:
    """S6 slowloris: request headers trickled one byte per second to both routers and the
    control plane at once: each server closes the connection, answering nothing, between
    0.5 s before and 1.5 s after IAS_SERVER__HEADER_TIMEOUT_SECONDS (3 s), and stays ready."""
    deadline = _setting(stack, "IAS_SERVER__HEADER_TIMEOUT_SECONDS")
    head = b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ias_" + b"A" * 40
    with contextlib.ExitStack() as opened:
        sockets = {
            name: opened.enter_context(raw_connection(url)) for name, url in _servers(stack).items()
        }
        cut = hostile.trickle(sockets, head, every=1.0, patience=deadline + 2 * DEADLINE_MARGIN)
        said = {name: read_available(sock, wait=1) for name, sock in sockets.items()}
    ready = {
        name: httpx.get(url + "/ready", timeout=5).status_code
        for name, url in _servers(stack).items()
    }

    for name, seconds in cut.items():
        assert seconds is not None, name
        assert deadline - 0.5 <= seconds <= deadline + DEADLINE_MARGIN, (name, seconds)
    assert set(said.values()) == {b""}
    assert set(ready.values()) == {200}


def _slow_body(
    url: str, path: str, headers: dict[str, str], patience: float
) -> tuple[float | None, bytes]:
    """Complete headers announcing 1,000 bytes, then the body one byte every 0.5 s: (seconds
    until the server answered or closed, what it said)."""
    head = request_head("POST", path, headers | {"content-type": "application/json"}, 1000)
    with raw_connection(url) as sock:
        sock.sendall(head)
        acted = hostile.trickle({"server": sock}, b'{"model": "' + b"x" * 988, 0.5, patience)
        return acted["server"], read_available(sock, wait=1)


def test_s6_a_body_trickled_to_a_router_is_cut_with_408(stack: Stack) -> None:
    """S6 slow body, router: headers complete, then the body a byte every 0.5 s: 408
    (`request_timeout`) within IAS_ROUTER__BODY_READ_SECONDS (3 s) + 1.5 s."""
    deadline = _setting(stack, "IAS_ROUTER__BODY_READ_SECONDS")
    headers = bearer(stack.tenant().key)
    seconds, raw = _slow_body(stack.router_url(), "/v1/chat/completions", headers, deadline + 3)
    assert seconds is not None, "never cut"
    assert seconds <= deadline + DEADLINE_MARGIN, seconds
    assert hostile.status_of(raw) == 408, raw[:300]
    assert b'"code":"request_timeout"' in raw


def test_s6_a_body_trickled_to_the_control_plane_is_cut(stack: Stack) -> None:
    """S6 slow body, control plane: headers complete, then a sign-in's body a byte every 0.5 s:
    408 (`request_timeout`) within IAS_CONTROL__BODY_READ_SECONDS (3 s) + 1.5 s."""
    deadline = _setting(stack, "IAS_CONTROL__BODY_READ_SECONDS")
    seconds, raw = _slow_body(stack.control.url, "/api/auth/login", {}, deadline + 3)
    assert seconds is not None, "never cut"
    assert seconds <= deadline + DEADLINE_MARGIN, (seconds, raw[:200])
    assert hostile.status_of(raw) == 408, raw[:300]
    assert b'"code":"request_timeout"' in raw


async def _seconds_until_billed(stack: Stack, org_id: str, within: float) -> float | None:
    """Seconds until the org has a usage row, i.e. the router is done with its request; None
    if it had none within `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await stack.rows(org_id):
            return time.monotonic() - started
        await asyncio.sleep(0.25)
    return None


@pytest.mark.timeout(60)
async def test_s6_a_stalled_stream_reader_is_cut_off_and_billed_what_was_generated(
    stack: Stack,
) -> None:
    """S6 slow SSE reader: a client with a 4 KiB receive window asks for a stream of ~5,000
    tokens (some 6 MB) and reads nothing. While it still holds the connection, the router
    must be done with it (its usage event emitted) within 5 s: its between-chunks deadline
    (2 s here, its patience with a silent backend) + 3 s. And the usage row must bill the
    completion tokens the engine generated, exactly."""
    bound = _setting(stack, "IAS_ROUTER__BETWEEN_CHUNKS_TIMEOUT_SECONDS") + 3.0
    tenant = stack.tenant()
    body = orjson.dumps(hostile.HUGE_STREAM)
    headers = bearer(tenant.key) | {"content-type": "application/json"}
    with raw_connection(stack.router_url(), receive_buffer=4096) as sock:
        sock.sendall(request_head("POST", "/v1/chat/completions", headers, len(body)) + body)
        cut_after = await _seconds_until_billed(stack, tenant.org_id, within=bound)
    # The client has gone now, whatever the router did: the request ends and is billed.
    rows = await stack.wait_for_rows(tenant.org_id, 1)
    generated = {r.request_id: r.completion_tokens for r in stack.engine_records().values()}

    assert len(rows) == 1
    event_id, row = next(iter(rows.items()))
    assert generated[event_id] > 1000, "too short a stream to stall anything"
    problems = []
    if cut_after is None:
        problems.append(f"a reader stalled for {bound:g} s was still being served")
    if row["completion_tokens"] != generated[event_id]:
        problems.append(f"billed {row['completion_tokens']} of {generated[event_id]} tokens")
    assert problems == []


# === S7: secrets in logs, responses and stored rows =============================================


@pytest.mark.timeout(90)
async def test_s7_no_secret_reaches_logs_responses_or_stored_rows(stack: Stack) -> None:
    """S7: a wrong password, a sign-in, a refresh, a key made, /v1 calls (plain and streamed,
    through both routers, some through a backend with its own api key), an unknown key; then
    every process's log, the routers' spool files, every response but the one that hands a
    secret out, and every row of the tables written: 0 occurrences of the password, the wrong
    password, any access or refresh token, the API key, the unknown key, the backend's api key
    or a server secret (IAS_JWT_SECRET, IAS_API_KEY_SECRET, IAS_ENCRYPTION_KEY)."""
    tour = await secrets_tour(stack)
    places = tour.responses | files_on_disk(stack) | await stored_rows(stack)

    leaks = {
        secret: [place for place in where if secret not in HANDED_OUT.get(place, set())]
        for secret, where in find_secrets(places, tour.secrets).items()
    }
    assert {secret: where for secret, where in leaks.items() if where} == {}
    assert sum(name.startswith("log router") for name in places) >= len(stack.routers)
    assert len(tour.secrets) >= 13


# === S8: SSRF ===================================================================================


@pytest.mark.timeout(60)
async def test_s8_urls_in_a_request_body_never_steer_a_connection(stack: Stack) -> None:
    """S8: `api_base`, `base_url`, `api_key` and `organization` at the top of a /v1 body (raw,
    and through the SDK's extra_body) are refused 400 in the envelope, naming the field; URLs
    deeper in the body (metadata, extra_body, a JSON-schema $ref, the model name) are never
    5xx, and an image_url part (which a multimodal backend would fetch) is refused 400. The
    host they name, a proxy in front of a live engine (so a connection would succeed),
    receives 0 connections from the routers or the engines behind them."""
    key = stack.tenant().key
    engine_port = httpx.URL(stack.engines["engine-b"].url).port
    assert engine_port is not None
    target = FaultProxy("ssrf-target", engine_port).start()
    try:
        url = f"http://{target.address}/v1"
        async with httpx.AsyncClient(headers=bearer(key), timeout=30) as client:
            post = partial(client.post, stack.v1() + "/chat/completions")
            top = {
                field: await post(json=CHAT | {field: url}) for field in hostile.FORBIDDEN_FIELDS
            }
            deep = {
                name: await post(json=CHAT | body)
                for name, body in hostile.nested_urls(url).items()
            }
        async with openai.AsyncOpenAI(base_url=stack.v1("router-b"), api_key=key) as sdk:
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.chat.completions.create(
                    model=MODEL, messages=MESSAGES, extra_body={"api_base": url}
                )
        await asyncio.sleep(0.5)  # a connection on its way would have arrived by now
        connections = target.snapshot().connections
    finally:
        target.stop()

    assert {field: a.status_code for field, a in top.items()} == dict.fromkeys(top, 400)
    assert all(is_error_envelope(answer) for answer in top.values())
    assert {field: a.json()["error"]["param"] for field, a in top.items()} == {f: f for f in top}
    assert refused.value.status_code == 400
    assert {name: a.status_code for name, a in deep.items() if a.status_code >= 500} == {}
    media = deep["image_url content part"]  # what a multimodal backend would fetch: refused
    assert media.status_code == 400, media.text
    assert media.json()["error"]["code"] == "unsupported_url"
    assert connections == 0


async def test_s8_admin_backend_urls_are_validated(stack: Stack) -> None:
    """S8: POST /api/admin/models/{id}/backends with file://, gopher://, dict://, ftp://,
    javascript: and data: URLs, no scheme or no host, credentials, a query or a fragment, a
    bad port, an endpoint path, CR/LF, a space, a broken IPv6 host, a host too long: every one
    400 `invalid_backend_url` on `url`, with a message saying what is wrong that never echoes
    the password; nothing is stored. A plain http URL is accepted (201)."""
    admin = bearer(stack.admin_token)
    async with api_client(stack) as api:
        model = ok(await api.post("/admin/models", json=model_body("s8"), headers=admin))
        add = partial(api.post, f"/admin/models/{model['id']}/backends", headers=admin)
        answers = {
            name: await add(json={"url": url}) for name, url in hostile.BAD_BACKEND_URLS.items()
        }
        stored = ok(await api.get(f"/admin/models/{model['id']}", headers=admin))["backends"]
        good = await add(json={"url": "http://127.0.0.1:9/v1"})
        await delete_models(api, stack.admin_token, {model["id"]})

    errors = {name: answer.json()["error"] for name, answer in answers.items()}
    assert {name: a.status_code for name, a in answers.items() if a.status_code != 400} == {}
    assert {
        n: e for n, e in errors.items() if (e["code"], e["param"]) != ("invalid_backend_url", "url")
    } == {}
    assert all(len(error["message"]) > 20 for error in errors.values())
    assert "hunter2" not in answers["credentials"].text
    assert stored == []
    assert good.status_code == 201, good.text
