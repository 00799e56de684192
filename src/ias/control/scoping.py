"""The one way an org-scoped request finds its org: through the caller's membership.

A caller who is not a member (and not a super admin) gets the same 404 as for an org that
does not exist, so org ids cannot be probed. Every org-scoped query starts from `OrgAccess`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ias.control.auth.service import Principal
from ias.control.permissions import Action, Role, can, require
from ias.errors import NotFound
from ias.models import Membership, Org


@dataclass(frozen=True, slots=True)
class OrgAccess:
    org: Org
    role: Role | None
    principal: Principal

    @property
    def super_admin(self) -> bool:
        return self.principal.user.is_super_admin

    @property
    def user_id(self) -> uuid.UUID:
        return self.principal.user.id

    def can(self, action: Action) -> bool:
        return can(self.role, action, super_admin=self.super_admin)

    def require(self, action: Action) -> None:
        require(self.role, action, super_admin=self.super_admin)


async def org_access(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> OrgAccess:
    row = (
        await session.execute(
            select(Org, Membership.role)
            .outerjoin(
                Membership,
                (Membership.org_id == Org.id) & (Membership.user_id == principal.user.id),
            )
            .where(Org.id == org_id)
        )
    ).first()
    if row is None or (row[1] is None and not principal.user.is_super_admin):
        raise NotFound("No such organization.", param="org_id")
    return OrgAccess(org=row[0], role=row[1], principal=principal)
