"""config/disputes.yml: how long a review usually takes (told to the debtor). Loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from core.config import ROOT

CONFIG = ROOT / "config" / "disputes.yml"


@dataclass(frozen=True)
class DisputesConfig:
    review_days: int


@lru_cache(maxsize=1)
def load(path: Path = CONFIG) -> DisputesConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    days = int(raw.get("dispute_review_days", 10))
    if days < 1:
        raise ValueError(f"{path}: dispute_review_days must be at least 1")
    return DisputesConfig(review_days=days)
