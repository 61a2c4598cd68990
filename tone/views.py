"""Admin API for this feature: routes under /agent/api/admin/tone (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/agent/api/admin/tone", tags=["admin-tone"])
