"""`/api/models` (catalog) and `/api/admin/models` (the registry, super admins)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["models"])
