"""Naming things on the command line: an org by id, slug or name; a model by id or name; a user
by id or email. Ids are used as they are; anything else is looked up, and a name that matches
nothing (or more than one thing) is a one-line error."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from ias.cli.api_client import ApiClient, ApiError


def _is_id(ref: str) -> bool:
    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True


def _one(kind: str, ref: str, candidates: Iterable[dict[str, Any]], *fields: str) -> dict[str, Any]:
    found = {row["id"]: row for row in candidates if any(row.get(f) == ref for f in fields)}
    if not found:
        raise ApiError(f"no {kind} named {ref!r} (or you cannot see it)")
    if len(found) > 1:
        raise ApiError(f"more than one {kind} is named {ref!r}; use its id")
    return next(iter(found.values()))


def _pages(api: ApiClient, path: str, **params: Any) -> Iterable[dict[str, Any]]:
    cursor = None
    while True:
        page = api.get(path, cursor=cursor, limit=200, **params)
        yield from page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def org_id(api: ApiClient, ref: str) -> str:
    """The id of the org `ref` names: its id, slug or name; the caller's orgs first."""
    if _is_id(ref):
        return ref
    mine: list[dict[str, Any]] = api.get("/api/orgs")
    try:
        return str(_one("organization", ref, mine, "slug", "name")["id"])
    except ApiError:
        if not _is_super_admin(api):
            raise
    every = _pages(api, "/api/admin/orgs", q=ref)
    return str(_one("organization", ref, every, "slug", "name")["id"])


def model_id(api: ApiClient, ref: str) -> str:
    if _is_id(ref):
        return ref
    return str(_one("model", ref, api.get("/api/admin/models"), "name")["id"])


def user_id(api: ApiClient, ref: str) -> str:
    if _is_id(ref):
        return ref
    return str(_one("user", ref, _pages(api, "/api/admin/users", q=ref), "email")["id"])


def member_id(api: ApiClient, org: str, ref: str) -> str:
    """A member of `org` by id or email (no super admin rights needed)."""
    if _is_id(ref):
        return ref
    members: list[dict[str, Any]] = api.get(f"/api/orgs/{org}/members")
    return str(_one("member", ref, _with_id(members, "user_id"), "email")["id"])


def _with_id(rows: Iterable[dict[str, Any]], field: str) -> Iterable[dict[str, Any]]:
    return ({**row, "id": row[field]} for row in rows)


def _is_super_admin(api: ApiClient) -> bool:
    return bool(api.get("/api/me").get("is_super_admin"))


def invite_id(api: ApiClient, org: str, ref: str) -> str:
    """An invite of `org` by id, or by the invited email (its pending invite)."""
    if _is_id(ref):
        return ref
    invites: list[dict[str, Any]] = api.get(f"/api/orgs/{org}/invites")
    pending = (row for row in invites if row.get("status") == "pending")
    return str(_one("pending invite", ref, pending, "email")["id"])
