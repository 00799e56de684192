"""`/api/orgs/{org_id}/api-keys`: HTTP only; the rules live in `service`."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response, status

from ias.control.api_keys import service
from ias.control.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from ias.control.deps import ClientIp, ContextDep, CurrentOrg, SessionDep
from ias.kit.clock import utcnow
from ias.models import ApiKey

router = APIRouter(tags=["api-keys"])


def key_read(key: ApiKey, now: datetime) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        models=key.models,
        rpm_limit=key.rpm_limit,
        tpm_limit=key.tpm_limit,
        concurrency_limit=key.concurrency_limit,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        created_at=key.created_at,
        created_by=key.created_by,
        status=service.key_status(key, now),
    )


@router.post(
    "/orgs/{org_id}/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
)
async def create_key(
    body: ApiKeyCreate,
    access: CurrentOrg,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> ApiKeyCreated:
    """Create an API key (members and above). The `key` is shown in this response only.

    A key never allows more than its organization: `rpm_limit` and `tpm_limit` may not exceed
    the org's limits, and `models` may name only registered models (null allows every model).
    """
    new = await service.create_key(context, session, access, body, ip)
    row = new.row
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        key=new.key,
        prefix=row.prefix,
        models=row.models,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        concurrency_limit=row.concurrency_limit,
        expires_at=row.expires_at,
        created_at=row.created_at,
        created_by=row.created_by,
    )


@router.get("/orgs/{org_id}/api-keys", response_model=list[ApiKeyRead])
async def list_keys(access: CurrentOrg, session: SessionDep) -> list[ApiKeyRead]:
    """Every key of the organization, newest first, without any secret."""
    now = utcnow()
    return [key_read(key, now) for key in await service.list_keys(session, access)]


@router.delete("/orgs/{org_id}/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(
    key_id: uuid.UUID, access: CurrentOrg, session: SessionDep, ip: ClientIp
) -> Response:
    """Revoke a key: it stops working within moments. Members revoke the keys they created;
    admins and owners any key of the organization. Revoking a revoked key changes nothing."""
    await service.revoke_key(session, access, key_id, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
