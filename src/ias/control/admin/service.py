"""Platform administration: every org and user, for super admins.

Rules: a super admin can neither disable nor demote themself, and the platform always keeps
at least one enabled super admin (checked under a lock, so concurrent demotions cannot race
past it). Disabling a user ends every session they have at once and tells the routers to drop
cached keys, so their API keys stop working too; enabling them again brings back no session.
Org limits change field by field: what the body leaves out stays as it is.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ias.contracts.invalidation import FLUSH, KEYS_CHANNEL
from ias.control.admin import repository
from ias.control.audit.service import Actor, record
from ias.control.auth.service import Principal
from ias.control.events import publish_after_commit
from ias.control.pagination import decode_cursor, encode_cursor
from ias.control.schemas import micros, usd
from ias.errors import Conflict, InvalidRequest, NotFound
from ias.kit.clock import utcnow
from ias.limits.types import Kind, Limiter
from ias.models import Org, User

Row = TypeVar("Row", tuple[Org, int], tuple[User, int])

# Each org limit's name on the wire → its column.
_LIMIT_FIELDS = {
    "rpm": "rpm_limit",
    "tpm": "tpm_limit",
    "monthly_token_quota": "monthly_token_quota",
    "monthly_budget_usd": "monthly_budget_micros",
    "concurrency": "concurrency_limit",
}


def _cut(rows: list[Row], limit: int) -> tuple[list[Row], str | None]:
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1][0]
    return rows[:limit], encode_cursor(last.created_at, last.id)


async def list_orgs(
    session: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[tuple[Org, int]], str | None]:
    """One page of every org, newest first, with member counts and the next page's cursor."""
    before = decode_cursor(cursor)
    return _cut(await repository.orgs_page(session, q=q, before=before, limit=limit + 1), limit)


async def list_users(
    session: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[tuple[User, int]], str | None]:
    """One page of every user, newest first, with org counts and the next page's cursor."""
    before = decode_cursor(cursor)
    return _cut(await repository.users_page(session, q=q, before=before, limit=limit + 1), limit)


def _refuse_self_demotion(actor: Principal, user: User) -> None:
    if user.id == actor.user.id:
        raise InvalidRequest(
            "You cannot disable your own account or remove your own super admin rights; "
            "ask another super admin to do it.",
            param="user_id",
            code="cannot_demote_self",
        )


def _keep_a_super_admin(user: User, active_super_admins: list[uuid.UUID]) -> None:
    others = [found for found in active_super_admins if found != user.id]
    if user.is_super_admin and not user.disabled and not others:
        raise Conflict(
            "The platform needs at least one enabled super admin: make someone else "
            "super admin first.",
            code="last_super_admin",
        )


async def update_user(
    session: AsyncSession,
    actor: Principal,
    user_id: uuid.UUID,
    *,
    disabled: bool | None,
    is_super_admin: bool | None,
    ip: str | None,
) -> tuple[User, int]:
    demoting = disabled is True or is_super_admin is False
    active = await repository.lock_active_super_admins(session) if demoting else []
    user = await repository.user_for_update(session, user_id)
    if user is None:
        raise NotFound("No such user.", param="user_id")
    if demoting:
        _refuse_self_demotion(actor, user)
        _keep_a_super_admin(user, active)
    now = utcnow()
    audit = Actor(actor.user.id, ip)
    details = {"email": user.email}
    if disabled is not None and disabled != user.disabled:
        user.disabled, user.updated_at = disabled, now
        if disabled:
            await repository.revoke_sessions(session, user.id, now)
        # Either way: routers may cache a key as usable or as refused.
        publish_after_commit(session, KEYS_CHANNEL, FLUSH.encode())
        action = "user.disabled" if disabled else "user.enabled"
        await record(session, audit, action, target_type="user", target_id=user.id, details=details)
    if is_super_admin is not None and is_super_admin != user.is_super_admin:
        user.is_super_admin, user.updated_at = is_super_admin, now
        action = "user.super_admin_granted" if is_super_admin else "user.super_admin_revoked"
        await record(session, audit, action, target_type="user", target_id=user.id, details=details)
    await session.flush()
    return user, await repository.org_count(session, user.id)


def _wire_limit(org: Org, name: str) -> Any:
    value = getattr(org, _LIMIT_FIELDS[name])
    return usd(value) if name == "monthly_budget_usd" else value


async def update_limits(
    session: AsyncSession,
    actor: Principal,
    org_id: uuid.UUID,
    changes: dict[str, Any],
    ip: str | None,
    limiter: Limiter | None = None,
) -> tuple[Org, int]:
    """Apply `changes` (wire names → new value, None = unlimited) and nothing else."""
    org = await repository.org_by_id(session, org_id)
    if org is None:
        raise NotFound("No such organization.", param="org_id")
    await _not_below_use(limiter, org.id, changes)
    model_changes = changes.pop("models", None) or {}
    before = {name: _wire_limit(org, name) for name in changes}
    for name, value in changes.items():
        stored = micros(value) if name == "monthly_budget_usd" else value
        setattr(org, _LIMIT_FIELDS[name], stored)
    after = {name: _wire_limit(org, name) for name in changes}
    changed = [name for name in changes if before[name] != after[name]]
    models_changed = await _apply_model_limits(session, org.id, model_changes)
    if changed or models_changed:
        org.updated_at = utcnow()
        await session.flush()
        details: dict[str, Any] = {
            "from": {name: before[name] for name in changed},
            "to": {name: after[name] for name in changed},
        }
        if models_changed:
            details["models"] = models_changed
        await record(
            session,
            Actor(actor.user.id, ip),
            "org.limits_changed",
            org_id=org.id,
            target_type="org",
            target_id=org.id,
            details=details,
        )
        publish_after_commit(session, KEYS_CHANNEL, FLUSH.encode())
    return org, await repository.member_count(session, org.id)


async def _apply_model_limits(
    session: AsyncSession, org_id: uuid.UUID, models: dict[str, Any]
) -> dict[str, Any]:
    """Set or clear per-model limits; only models in the registry can carry limits."""
    if not models:
        return {}
    known = await repository.existing_model_names(session, list(models))
    unknown = sorted(set(models) - known)
    if unknown:
        raise InvalidRequest(
            f"No such model: {', '.join(unknown)}. Limits can only be set on models in the "
            "registry (GET /api/admin/models).",
            param="models",
            code="model_not_found",
        )
    changed: dict[str, Any] = {}
    for name, limits in models.items():
        if limits is None or (limits.rpm is None and limits.tpm is None):
            await repository.delete_model_limit(session, org_id, name)
            changed[name] = None
        else:
            await repository.put_model_limit(session, org_id, name, limits.rpm, limits.tpm)
            changed[name] = {"rpm": limits.rpm, "tpm": limits.tpm}
    return changed


_MONTHLY = {"monthly_token_quota": Kind.MONTHLY_TOKENS, "monthly_budget_usd": Kind.MONTHLY_MICROS}


async def _not_below_use(
    limiter: Limiter | None, org_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    """A monthly quota or budget below what the org has already used this month is refused."""
    asked = {name: changes[name] for name in _MONTHLY if changes.get(name) is not None}
    if not asked or limiter is None:
        return
    used = await limiter.consumption(f"org:{org_id}")
    for name, value in asked.items():
        spent = used.get(_MONTHLY[name], 0)
        wanted = micros(value) if name == "monthly_budget_usd" else value
        if wanted is not None and wanted < spent:
            shown = usd(spent) if name == "monthly_budget_usd" else spent
            raise Conflict(
                f"The org has already used {shown} of '{name}' this month; set it to at least "
                "that, or to null for no limit.",
                code="below_current_use",
            )
