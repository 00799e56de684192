"""FastAPI dependencies shared by every control-plane endpoint (`Annotated` aliases)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.auth.service import Principal, authenticate
from ias.control.context import ControlContext
from ias.control.events import flush_queue
from ias.control.scoping import OrgAccess, org_access
from ias.errors import IASError, PermissionDenied, Unauthorized
from ias.kit.db import kept_on_refusal


def get_context(request: Request) -> ControlContext:
    context: ControlContext = request.app.state.control
    return context


ContextDep = Annotated[ControlContext, Depends(get_context)]


async def get_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request, committed before the response is sent.

    A refusal (`IASError`) rolls it back unless the service marked it `keep_on_refusal`;
    anything else always rolls back.
    """
    async with context.db.session() as session:
        try:
            yield session
        except IASError:
            await (session.commit() if kept_on_refusal(session) else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
    await flush_queue(session, context.notifier)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


ClientIp = Annotated[str | None, Depends(client_ip)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Missing access token: send 'Authorization: Bearer <access_token>' "
            "(get one from POST /api/auth/login).",
            code="missing_token",
        )
    return token.strip()


async def current_principal(
    context: ContextDep, session: SessionDep, token: Annotated[str, Depends(bearer_token)]
) -> Principal:
    return await authenticate(context, session, token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def super_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.user.is_super_admin:
        raise PermissionDenied("Only a super admin may do this.")
    return principal


SuperAdmin = Annotated[Principal, Depends(super_admin)]


async def current_org(
    org_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OrgAccess:
    return await org_access(session, principal, org_id)


CurrentOrg = Annotated[OrgAccess, Depends(current_org)]
