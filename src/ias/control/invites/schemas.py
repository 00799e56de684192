"""Request and response bodies of `/api/orgs/{org_id}/invites` and `/api/invites/{token}`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from ias.control.schemas import StrictBody
from ias.models import OrgRole


class InviteStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class InviteCreate(StrictBody):
    email: str = Field(min_length=3, max_length=320, description="Who may accept the invite.")
    role: OrgRole = Field(description="The role they get; never above your own.")


class InviteCreated(BaseModel):
    id: uuid.UUID
    email: str
    role: OrgRole
    url: str = Field(description="The link to send to the invitee; it contains the token.")
    token: str = Field(description="Shown only in this response; the server keeps only a hash.")
    expires_at: datetime
    created_at: datetime


class InviteRead(BaseModel):
    id: uuid.UUID
    email: str
    role: OrgRole
    status: InviteStatus
    created_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    accepted_by: uuid.UUID | None
    revoked_at: datetime | None


class InvitePreview(BaseModel):
    org_name: str
    email: str
    role: OrgRole
    expires_at: datetime
    status: InviteStatus
    account_exists: bool = Field(
        description="Whether the invited email already has an account: then sign in to accept."
    )


class InviteAcceptNewAccount(StrictBody):
    name: str = Field(min_length=1, max_length=200, description="Your name, shown to members.")
    password: str = Field(min_length=1, max_length=1024)


class InviteAccepted(BaseModel):
    org_id: uuid.UUID
    org_name: str
    role: OrgRole
    user_id: uuid.UUID
