"""`/api/auth/*` and `/api/me`: HTTP only; the rules live in `service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response, status

from ias.control.auth import service
from ias.control.auth.schemas import (
    LoginRequest,
    MembershipRead,
    MeRead,
    PasswordChange,
    RefreshRequest,
    TokenRead,
)
from ias.control.deps import ClientIp, ContextDep, CurrentPrincipal, SessionDep

REFRESH_COOKIE = "ias_refresh"
REFRESH_COOKIE_PATH = "/api/auth"

router = APIRouter(tags=["auth"])


def _client(request: Request, ip: str | None) -> tuple[str | None, str | None]:
    return ip, request.headers.get("user-agent")


def _tokens_response(response: Response, tokens: service.IssuedTokens) -> TokenRead:
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        expires=tokens.refresh_expires_at,
        path=REFRESH_COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.headers["cache-control"] = "no-store"
    return TokenRead(access_token=tokens.access_token, expires_in=tokens.expires_in)


@router.post("/auth/login", response_model=TokenRead)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> TokenRead:
    """Sign in with email and password; sets the rotating refresh cookie."""
    tokens = await service.login(context, session, body.email, body.password, _client(request, ip))
    return _tokens_response(response, tokens)


@router.post("/auth/refresh", response_model=TokenRead)
async def refresh(
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> TokenRead:
    """Trade the refresh token (cookie, or `refresh_token` in the body) for new tokens."""
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    tokens = await service.refresh(context, session, token, _client(request, ip))
    return _tokens_response(response, tokens)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, session: SessionDep, ip: ClientIp) -> Response:
    """End this session: its refresh token and access token stop working at once."""
    await service.logout(session, principal, ip)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=True, httponly=True)
    return response


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange,
    principal: CurrentPrincipal,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> None:
    """Change your password; every other session of yours is ended."""
    await service.change_password(
        context, session, principal, body.current_password, body.new_password, ip
    )


@router.get("/me", response_model=MeRead)
async def me(principal: CurrentPrincipal, session: SessionDep) -> MeRead:
    """Who you are, and your role in each of your organizations."""
    user = principal.user
    memberships = await service.memberships(session, user.id)
    return MeRead(
        id=user.id,
        email=user.email,
        name=user.name,
        is_super_admin=user.is_super_admin,
        created_at=user.created_at,
        memberships=[MembershipRead(org_id=o.id, org_name=o.name, role=r) for o, r in memberships],
    )
