"""`/api/orgs/{org_id}/invites` and `/api/invites/{token}`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["invites"])
