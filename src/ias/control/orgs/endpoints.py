"""`/api/orgs` and `/api/orgs/{org_id}/members`: HTTP only; the rules live in `service`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from ias.control.deps import ClientIp, ContextDep, CurrentOrg, CurrentPrincipal, SessionDep
from ias.control.orgs import service
from ias.control.orgs.schemas import (
    MemberRead,
    MemberUpdate,
    ModelLimitRead,
    OrgConsumption,
    OrgCreate,
    OrgLimits,
    OrgLimitsRead,
    OrgRead,
    OrgUpdate,
)
from ias.control.permissions import Role
from ias.control.schemas import usd
from ias.limits.types import Kind
from ias.models import Membership, Org, User

router = APIRouter(tags=["orgs"])


def org_read(org: Org, role: Role | None) -> OrgRead:
    limits = OrgLimits.of(org)
    return OrgRead(
        id=org.id, name=org.name, slug=org.slug, role=role, limits=limits, created_at=org.created_at
    )


def member_read(user: User, member: Membership) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=member.role,
        joined_at=member.created_at,
    )


@router.post("/orgs", response_model=OrgRead, status_code=status.HTTP_201_CREATED)
async def create_org(
    body: OrgCreate,
    principal: CurrentPrincipal,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> OrgRead:
    """Create an organization; you become its owner."""
    org = await service.create_org(context, session, principal, body.name, ip)
    return org_read(org, Role.OWNER)


@router.get("/orgs", response_model=list[OrgRead])
async def list_orgs(principal: CurrentPrincipal, session: SessionDep) -> list[OrgRead]:
    """The organizations you belong to, with your role in each."""
    return [org_read(org, role) for org, role in await service.my_orgs(session, principal)]


@router.get("/orgs/{org_id}", response_model=OrgRead)
async def get_org(access: CurrentOrg) -> OrgRead:
    """One organization you belong to."""
    return org_read(access.org, access.role)


@router.patch("/orgs/{org_id}", response_model=OrgRead)
async def rename_org(
    body: OrgUpdate, access: CurrentOrg, session: SessionDep, ip: ClientIp
) -> OrgRead:
    """Rename the organization (owners only)."""
    org = await service.rename_org(session, access, body.name, ip)
    return org_read(org, access.role)


@router.delete("/orgs/{org_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_org(access: CurrentOrg, session: SessionDep, ip: ClientIp) -> Response:
    """Delete the organization with its members, invites and keys (owners only).

    Its usage history stays in the ledger."""
    await service.delete_org(session, access, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/orgs/{org_id}/members", response_model=list[MemberRead])
async def list_members(access: CurrentOrg, session: SessionDep) -> list[MemberRead]:
    """Everyone in the organization and their role."""
    return [member_read(u, m) for u, m in await service.list_members(session, access)]


@router.patch("/orgs/{org_id}/members/{user_id}", response_model=MemberRead)
async def change_role(
    user_id: uuid.UUID,
    body: MemberUpdate,
    access: CurrentOrg,
    session: SessionDep,
    ip: ClientIp,
) -> MemberRead:
    """Change a member's role. Admins manage members and viewers; owners manage everyone."""
    user, member = await service.change_role(session, access, user_id, body.role, ip)
    return member_read(user, member)


@router.delete("/orgs/{org_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: uuid.UUID, access: CurrentOrg, session: SessionDep, ip: ClientIp
) -> Response:
    """Remove a member, or leave (your own user id). Their keys in this org are revoked."""
    await service.remove_member(session, access, user_id, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/orgs/{org_id}/limits", response_model=OrgLimitsRead)
async def get_limits(access: CurrentOrg, context: ContextDep, session: SessionDep) -> OrgLimitsRead:
    """The org's limits, per-model limits, and what it has used this minute and this month."""
    models, usage = await service.limits_and_usage(context, session, access)
    return OrgLimitsRead(
        limits=OrgLimits.of(access.org),
        models=[ModelLimitRead(model=m.model, rpm=m.rpm_limit, tpm=m.tpm_limit) for m in models],
        usage=None if usage is None else consumption_read(usage),
    )


def consumption_read(usage: dict[Kind, int]) -> OrgConsumption:
    return OrgConsumption(
        requests_this_minute=usage.get(Kind.REQUESTS, 0),
        tokens_this_minute=usage.get(Kind.TOKENS, 0),
        requests_in_flight=usage.get(Kind.CONCURRENCY, 0),
        tokens_this_month=usage.get(Kind.MONTHLY_TOKENS, 0),
        spend_this_month_usd=usd(usage.get(Kind.MONTHLY_MICROS, 0)) or 0.0,
    )
