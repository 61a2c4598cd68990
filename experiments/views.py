"""Admin API for this feature: routes under /agent/api/admin/experiments (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/agent/api/admin/experiments", tags=["admin-experiments"])
