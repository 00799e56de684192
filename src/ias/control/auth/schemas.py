"""Request and response bodies of `/api/auth` and `/api/me`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ias.control.schemas import StrictBody
from ias.models import OrgRole


class LoginRequest(StrictBody):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(StrictBody):
    refresh_token: str | None = Field(default=None, max_length=256)


class PasswordChange(StrictBody):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class MembershipRead(BaseModel):
    org_id: uuid.UUID
    org_name: str
    role: OrgRole


class MeRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    is_super_admin: bool
    created_at: datetime
    memberships: list[MembershipRead]
