"""The matching key of a reference: what is left when separators and case are ignored.

Agencies print references in their own formats (`INV/2024/00123`, `AB-123456`) and people type
them as they like (`inv 2024 00123`, `INV2024/00123`): both sides compare by this key, stored
next to each reference (debtors.reference_key, debts.reference_key, indexed)."""

from __future__ import annotations

import re
from typing import Any

_NOT_KEY = re.compile(r"[^0-9A-Za-z]+")


def reference_key(text: str) -> str:
    """ASCII letters and digits only, upper-cased: `inv/2024-00123` -> `INV202400123`."""
    return _NOT_KEY.sub("", text).upper()


def key_default(context: Any) -> str | None:
    """Column default: the key of the row's own `reference` (rows inserted without one)."""
    reference = context.get_current_parameters().get("reference")
    return reference_key(reference) if reference else None
