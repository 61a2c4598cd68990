"""Tables of this feature (see service.py)."""

from __future__ import annotations
