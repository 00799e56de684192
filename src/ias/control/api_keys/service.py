"""API keys of an organization.

Rule: a key never grants more than its creator holds. Only members and above (and super
admins) create keys; a key's per-minute limits never exceed its org's; its model allowlist
names only registered models. The key itself is returned once and stored only as its HMAC
(`contracts.api_keys.hash_key`). Members revoke the keys they created, admins and owners any
key of the org; every revocation tells the routers to drop the key from their caches once
the change is committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.control.api_keys import repository
from ias.control.api_keys.schemas import ApiKeyCreate, KeyStatus
from ias.control.audit.service import Actor, record
from ias.control.context import ControlContext
from ias.control.events import invalidate_keys
from ias.control.permissions import Action
from ias.control.scoping import OrgAccess
from ias.errors import InvalidRequest, NotFound
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.models import ApiKey, Org


@dataclass(frozen=True, slots=True)
class NewKey:
    row: ApiKey
    key: str


def key_status(key: ApiKey, now: datetime) -> KeyStatus:
    if key.revoked_at is not None:
        return KeyStatus.REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return KeyStatus.EXPIRED
    return KeyStatus.ACTIVE


def _future_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    expires_at = expires_at.astimezone(UTC)
    if expires_at <= now:
        raise InvalidRequest(
            f"expires_at {expires_at.isoformat()} is not in the future (now is "
            f"{now.isoformat()}); pick a later time, or null for a key that does not expire.",
            param="expires_at",
            code="invalid_value",
        )
    return expires_at


def _within_org_cap(param: str, wanted: int | None, cap: int | None, unit: str) -> None:
    if wanted is not None and cap is not None and wanted > cap:
        raise InvalidRequest(
            f"{param} {wanted} is above this organization's limit of {cap} {unit}; a key "
            f"cannot allow more than its organization. Use at most {cap}, or null to share "
            "the organization's limit.",
            param=param,
            code="above_org_limit",
        )


async def _allowed_models(session: AsyncSession, models: list[str] | None) -> list[str] | None:
    if models is None:
        return None
    if not models:
        raise InvalidRequest(
            "models is an empty list, which would allow no model at all; list model names, "
            "or send null to allow every model.",
            param="models",
            code="invalid_value",
        )
    wanted = list(dict.fromkeys(models))
    unknown = sorted(set(wanted) - await repository.registered_models(session, wanted))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise InvalidRequest(
            f"Unknown model{'s' if len(unknown) > 1 else ''}: {names}. Use names listed by "
            "GET /api/models, or send null to allow every model.",
            param="models",
            code="model_not_found",
        )
    return wanted


def _check_limits(org: Org, request: ApiKeyCreate) -> None:
    _within_org_cap("rpm_limit", request.rpm_limit, org.rpm_limit, "requests per minute")
    _within_org_cap("tpm_limit", request.tpm_limit, org.tpm_limit, "tokens per minute")
    _within_org_cap(
        "concurrency_limit", request.concurrency_limit, org.concurrency_limit, "requests at once"
    )


async def create_key(
    context: ControlContext,
    session: AsyncSession,
    access: OrgAccess,
    request: ApiKeyCreate,
    ip: str | None,
) -> NewKey:
    access.require(Action.KEYS_CREATE)
    now = utcnow()
    expires_at = _future_expiry(request.expires_at, now)
    _check_limits(access.org, request)
    models = await _allowed_models(session, request.models)
    key = generate_key()
    row = ApiKey(
        id=uuid7(),
        org_id=access.org.id,
        created_by=access.user_id,
        name=request.name,
        prefix=display_prefix(key),
        key_hash=hash_key(key, context.settings.secret("api_key_secret")),
        models=models,
        rpm_limit=request.rpm_limit,
        tpm_limit=request.tpm_limit,
        concurrency_limit=request.concurrency_limit,
        expires_at=expires_at,
        created_at=now,
    )
    await repository.add(session, row)
    await record(
        session,
        Actor(access.user_id, ip),
        "api_key.created",
        org_id=access.org.id,
        target_type="api_key",
        target_id=row.id,
        details={"name": row.name, "prefix": row.prefix, "models": models},
    )
    return NewKey(row, key)


async def list_keys(session: AsyncSession, access: OrgAccess) -> list[ApiKey]:
    access.require(Action.KEYS_READ)
    return await repository.keys_of(session, access.org.id)


async def revoke_key(
    session: AsyncSession, access: OrgAccess, key_id: uuid.UUID, ip: str | None
) -> None:
    """Revoke a key of this org; revoking a key that is already revoked changes nothing."""
    access.require(Action.KEYS_CREATE)
    key = await repository.key_for_update(session, access.org.id, key_id)
    if key is None:
        raise NotFound("No such API key in this organization.", param="key_id")
    if key.created_by != access.user_id:
        access.require(Action.KEYS_MANAGE_ALL)
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    await session.flush()
    await record(
        session,
        Actor(access.user_id, ip),
        "api_key.revoked",
        org_id=access.org.id,
        target_type="api_key",
        target_id=key.id,
        details={"name": key.name, "prefix": key.prefix},
    )
    invalidate_keys(session, [key.key_hash])
