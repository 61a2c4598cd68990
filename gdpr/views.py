"""Admin API for this feature: routes under /agent/api/admin/gdpr (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/agent/api/admin/gdpr", tags=["admin-gdpr"])
