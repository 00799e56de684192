"""`/api/admin/*`: platform administration for super admins."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["admin"])
