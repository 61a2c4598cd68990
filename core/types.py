"""Request value types every feature's API shares (the ground: no feature knows another's)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


# A day as the schema says it (`format: date`): pydantic alone would also read "0" or "1700000000"
# as a Unix timestamp, so `?to=0` silently meant 1970-01-01 instead of a 422.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]
