"""The permission matrix: which org role may do what. The only place that decides it.

Roles are ordered ``owner ⊃ admin ⊃ member ⊃ viewer``; a super admin may do everything on
every org. Rules that depend on the object as well as the role (a member revoking only their
own keys, an admin never touching an owner) are written next to the action they qualify, so
the whole policy reads top to bottom here.
"""

from __future__ import annotations

import enum

from ias.errors import NotFound, PermissionDenied
from ias.models import OrgRole

Role = OrgRole

_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def at_least(role: Role, minimum: Role) -> bool:
    return _RANK[role] >= _RANK[minimum]


class Action(enum.StrEnum):
    ORG_READ = "org.read"
    ORG_UPDATE = "org.update"
    ORG_DELETE = "org.delete"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"
    INVITES_MANAGE = "invites.manage"
    KEYS_READ = "keys.read"
    KEYS_CREATE = "keys.create"
    KEYS_MANAGE_ALL = "keys.manage_all"
    USAGE_READ_OWN = "usage.read_own"
    USAGE_READ_ALL = "usage.read_all"
    AUDIT_READ = "audit.read"


MINIMUM_ROLE: dict[Action, Role] = {
    Action.ORG_READ: Role.VIEWER,
    Action.MEMBERS_READ: Role.VIEWER,
    Action.KEYS_READ: Role.VIEWER,
    Action.USAGE_READ_OWN: Role.VIEWER,
    Action.KEYS_CREATE: Role.MEMBER,
    Action.MEMBERS_MANAGE: Role.ADMIN,
    Action.INVITES_MANAGE: Role.ADMIN,
    Action.KEYS_MANAGE_ALL: Role.ADMIN,
    Action.USAGE_READ_ALL: Role.ADMIN,
    Action.AUDIT_READ: Role.ADMIN,
    Action.ORG_UPDATE: Role.OWNER,
    Action.ORG_DELETE: Role.OWNER,
}


def can(role: Role | None, action: Action, *, super_admin: bool = False) -> bool:
    if super_admin:
        return True
    return role is not None and at_least(role, MINIMUM_ROLE[action])


def require(role: Role | None, action: Action, *, super_admin: bool = False) -> None:
    """Raise unless allowed. A caller with no role in the org learns nothing: 404, not 403."""
    if can(role, action, super_admin=super_admin):
        return
    if role is None:
        raise NotFound("No such organization.")
    raise PermissionDenied(
        f"Your role '{role}' in this organization does not allow {action.value}; "
        f"it needs '{MINIMUM_ROLE[action]}' or higher."
    )


def may_assign(actor: Role | None, target: Role, *, super_admin: bool = False) -> bool:
    """Whether the actor may grant `target` (by invite or role change) or act on its holder.

    Admins manage members and viewers; owners (and super admins) also manage admins and
    owners. So nobody ever grants a role above their own.
    """
    if super_admin:
        return True
    if actor is Role.OWNER:
        return True
    return actor is Role.ADMIN and target in (Role.MEMBER, Role.VIEWER)
