"""Admin API for this feature: routes under /agent/api/admin/analytics (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/agent/api/admin/analytics", tags=["admin-analytics"])
