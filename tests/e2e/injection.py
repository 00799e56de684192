"""Injection payloads swept through every field and header of the main write paths (S4).

`field_sweep` puts each payload in org and key names, invite email and role, usage query
parameters, the invite token, login email and password and the /v1 model name, through the
API; `header_sweep` puts it in the Authorization, x-request-id, traceparent and content-type
headers of /v1 and /api, written by hand so that CR, LF and NUL go out as they are. Each
returns the problems it saw: anything but a refusal (4xx) or a verbatim store.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from tests.e2e.hostile import (
    CHAT,
    INJECTIONS,
    raw_connection,
    read_available,
    send_regardless,
    status_of,
)
from tests.e2e.people import api_client, bearer, join, ok
from tests.e2e.stack import Stack


def _refusals(
    api: httpx.AsyncClient, stack: Stack, tenant: Any, victim_email: str, payload: str
) -> dict[str, Callable[[], Awaitable[httpx.Response]]]:
    """Requests carrying `payload` that must each be refused with a 4xx, by label."""
    org, query = tenant.org_id, payload[:2000]  # a URL has a length limit of its own
    from_elsewhere = {"x-forwarded-for": "192.0.2.44"}  # failed sign-ins: an address of their own
    invite = {"email": f"{uuid.uuid4().hex}@example.com", "role": payload}
    calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "invite email": partial(
            api.post, f"/orgs/{org}/invites", json={"email": payload, "role": "member"}
        ),
        "invite role": partial(api.post, f"/orgs/{org}/invites", json=invite),
        "usage.csv start": partial(api.get, f"/orgs/{org}/usage.csv", params={"start": query}),
        "invite token": partial(api.get, f"/invites/{quote(query, safe='')}"),
        "login email": partial(
            api.post,
            "/auth/login",
            json={"email": payload, "password": payload},
            headers=from_elsewhere,
        ),
        "login password": partial(
            api.post,
            "/auth/login",
            json={"email": victim_email, "password": payload},
            headers=from_elsewhere,
        ),
        "/v1 model": partial(
            api.post,
            stack.v1() + "/chat/completions",
            json=CHAT | {"model": payload},
            headers=bearer(tenant.key),
        ),
    }
    for param in ("start", "end", "granularity", "group_by"):
        calls[f"usage {param}"] = partial(api.get, f"/orgs/{org}/usage", params={param: query})
    return calls


async def _stored_verbatim(api: httpx.AsyncClient, org: str, payload: str) -> list[str]:
    """An org and an API key named `payload`: each stored byte for byte (surrounding whitespace
    stripped) or refused with a 4xx."""
    problems = []
    for kind, create, read in (
        ("org", "/orgs", "/orgs/{id}"),
        ("key", f"/orgs/{org}/api-keys", f"/orgs/{org}/api-keys"),
    ):
        created = await api.post(create, json={"name": payload})
        if created.status_code != 201:
            if not 400 <= created.status_code < 500:
                problems.append(f"{kind} name: {created.status_code}")
            continue
        shown = ok(await api.get(read.format(id=created.json()["id"])))
        names = {
            item["id"]: item["name"] for item in (shown if isinstance(shown, list) else [shown])
        }
        if names[created.json()["id"]] != payload.strip():
            problems.append(f"{kind} name stored as {names[created.json()['id']]!r}")
    return problems


async def field_sweep(stack: Stack) -> tuple[list[str], list[str]]:
    """(problems, response bodies) of every payload in every field of the main write paths."""
    tenant = stack.tenant()
    problems, bodies = [], []
    async with api_client(stack) as api:
        victim = await join(api, stack.admin_token, tenant.org_id, "member", sign_in=False)
        api.headers.update(bearer(stack.admin_token))
        for name, payload in INJECTIONS.items():
            problems += [
                f"{name}: {p}" for p in await _stored_verbatim(api, tenant.org_id, payload)
            ]
            for label, send in _refusals(api, stack, tenant, victim.email, payload).items():
                answer = await send()
                bodies.append(answer.text)
                if not 400 <= answer.status_code < 500:
                    problems.append(f"{label} {name}: {answer.status_code} {answer.text[:100]}")
                if _evaluated(payload, answer.text):
                    problems.append(f"{label} {name}: evaluated in {answer.text[:100]}")
    return problems, bodies


def _evaluated(payload: str, answer: str) -> bool:
    """A template payload (`{{7*7}}`, `${7*7}`) that came back worked out (49), not as text."""
    return "7*7" in payload and "49" in answer and "7*7" not in answer


def _raw_post(url: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One POST written by hand, header values as raw UTF-8 (CR and LF included); the raw
    response, the server closing the connection after it."""
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", "connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    with raw_connection(url) as sock:
        send_regardless(sock, head + body)
        return read_available(sock, wait=10)


def _header_problems(raw: bytes, header: str) -> list[str]:
    status = status_of(raw)
    head = raw.split(b"\r\n\r\n", 1)[0].lower().split(b"\r\n")
    request_ids = [
        line[len(b"x-request-id:") :].strip() for line in head if line.startswith(b"x-request-id:")
    ]
    problems = []
    if status is None or status >= 500:
        problems.append(f"answered {raw[:60]!r}")
    elif header == "authorization" and status < 300:
        problems.append(f"let in with {status}")
    if any(line.startswith(b"x-injected") for line in head):
        problems.append("an injected header line in the response")
    if not all(rid.replace(b"_", b"").isalnum() for rid in request_ids):
        problems.append(f"x-request-id {request_ids!r}")
    return problems


def header_sweep(stack: Stack) -> list[str]:
    """Every payload in Authorization, x-request-id, traceparent and content-type, on /v1 and
    /api (each request otherwise valid and authorised)."""
    targets = {
        "/v1": (stack.router_url(), "/v1/chat/completions", stack.tenant().key, orjson.dumps(CHAT)),
        "/api": (stack.control.url, "/api/orgs", stack.admin_token, b'{"name": "headers"}'),
    }
    problems = []
    for plane, (url, path, credential, body) in targets.items():
        for name, payload in INJECTIONS.items():
            for header in ("authorization", "x-request-id", "traceparent", "content-type"):
                headers = bearer(credential) | {"content-type": "application/json"}
                headers[header] = f"Bearer {payload}" if header == "authorization" else payload
                raw = _raw_post(url, path, headers, body)
                problems += [f"{plane} {header} {name}: {p}" for p in _header_problems(raw, header)]
    return problems
