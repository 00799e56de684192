"""SQLAlchemy models, one module per aggregate; `Base.metadata` is what the migrations build."""

from ias.models.api_keys import ApiKey
from ias.models.audit import AuditEntry
from ias.models.base import Base
from ias.models.orgs import Invite, Membership, Org, OrgModelLimit, OrgRole
from ias.models.registry import Backend, ModelEntry, ModelKind
from ias.models.sessions import RefreshSession
from ias.models.usage import Granularity, UsageEvent, UsageRollup
from ias.models.users import User

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Backend",
    "Base",
    "Granularity",
    "Invite",
    "Membership",
    "ModelEntry",
    "ModelKind",
    "Org",
    "OrgModelLimit",
    "OrgRole",
    "RefreshSession",
    "UsageEvent",
    "UsageRollup",
    "User",
]
