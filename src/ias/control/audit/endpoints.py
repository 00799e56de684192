"""`/api/orgs/{org_id}/audit` and `/api/admin/audit`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["audit"])
