"""Writing and reading the audit log.

Every mutating control-plane call records who did what to which object, from where. Details
are given explicitly by each caller and pass through `_scrub`, which drops any field whose name
suggests a secret: no password, token or key ever reaches the log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.audit import repository
from ias.control.pagination import decode_cursor, encode_cursor
from ias.control.permissions import Action
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.models import AuditEntry

if TYPE_CHECKING:
    # Only a type here: scoping imports auth, which records through this module.
    from ias.control.scoping import OrgAccess

_SECRET_MARKERS = ("password", "token", "secret", "key_hash", "api_key", "authorization")


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID | None
    ip: str | None


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in details.items()
        if not any(marker in name.lower() for marker in _SECRET_MARKERS)
    }


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    org_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    entry = AuditEntry(
        id=uuid7(),
        at=utcnow(),
        actor_user_id=actor.user_id,
        org_id=org_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        ip=actor.ip,
        details=_scrub(details or {}),
    )
    await repository.add(session, entry)


async def read_page(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    action: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    before = decode_cursor(cursor)
    entries = await repository.page(
        session, org_id=org_id, before=before, limit=limit + 1, action=action
    )
    if len(entries) > limit:
        last = entries[limit - 1]
        return entries[:limit], encode_cursor(last.at, last.id)
    return entries, None


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    actor_emails: dict[uuid.UUID, str]
    next_cursor: str | None


async def browse(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> AuditPage:
    """One page of the log with each actor's current email (absent once the user is deleted)."""
    entries, next_cursor = await read_page(
        session, org_id=org_id, cursor=cursor, limit=limit, action=action
    )
    actors = {entry.actor_user_id for entry in entries if entry.actor_user_id is not None}
    return AuditPage(entries, await repository.emails_of(session, actors), next_cursor)


async def org_page(
    session: AsyncSession, access: OrgAccess, *, cursor: str | None, limit: int
) -> AuditPage:
    access.require(Action.AUDIT_READ)
    return await browse(session, org_id=access.org.id, action=None, cursor=cursor, limit=limit)
