"""Vulnerability signals for one debtor message: cue lexicon + optional distress model.

Rules (`SignalScorer.assess`):

* any `self_harm` cue            -> immediate_human=True, vulnerable=True, priority 0 (hand over now)
* any other cue category         -> vulnerable=True, priority 1
  (bereavement, illness, job_loss, financial_distress, other_vulnerability)
* model distress >= threshold    -> vulnerable=True, priority 2 (default threshold 0.85)
* nothing                        -> priority 9

Lower priority number = more urgent; the first rule that applies sets `priority` and `reason`.
`financial_distress` cues only name hardship with essentials (food, rent, heating, benefits,
eviction), never the debt itself, so they count as vulnerability (FCA "low resilience").

`mode` is "model+lexicon" when a distress model is loaded, else "lexicon-only" (for /health).
Everything here is synchronous CPU work: async callers should use `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from engine.signals.lexicon import CATEGORIES, SELF_HARM, match_cues
from engine.signals.model import DistressModel

log = logging.getLogger(__name__)

PRIORITY_SELF_HARM = 0
PRIORITY_CUES = 1
PRIORITY_HIGH_DISTRESS = 2
PRIORITY_NONE = 9
DISTRESS_THRESHOLD = 0.85
MODE_MODEL = "model+lexicon"
MODE_LEXICON = "lexicon-only"
VULNERABLE_CATEGORIES: frozenset[str] = frozenset(c for c in CATEGORIES if c != SELF_HARM)


@dataclass(frozen=True)
class Assessment:
    distress: float | None  # model probability, None in lexicon-only mode
    cues: dict[str, list[str]] = field(default_factory=dict)  # category -> matched cue texts
    vulnerable: bool = False
    immediate_human: bool = False
    priority: int = PRIORITY_NONE
    reason: str | None = None


class SignalScorer:
    def __init__(self, model: DistressModel | None = None, threshold: float = DISTRESS_THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold

    @classmethod
    def from_settings(cls, model_dir: Path | None, threshold: float = DISTRESS_THRESHOLD) -> SignalScorer:
        """Load the distress model from `model_dir` (local only); without it, run lexicon-only.

        A configured but unloadable model is logged and the scorer falls back to lexicon-only, so
        self-harm and vulnerability cues keep working; `mode` on /health shows the degradation.
        """
        model: DistressModel | None = None
        if model_dir is not None:
            try:
                model = DistressModel.load(Path(model_dir))
            except Exception:
                log.exception("distress model at %s could not be loaded; running lexicon-only", model_dir)
        return cls(model, threshold)

    @property
    def mode(self) -> str:
        return MODE_MODEL if self.model is not None else MODE_LEXICON

    def assess(self, text: str, locale: str | None) -> Assessment:
        cues = match_cues(text or "", locale)
        distress = self.model.score(text or "") if self.model is not None else None
        if SELF_HARM in cues:
            return Assessment(
                distress, cues, True, True, PRIORITY_SELF_HARM, f"self_harm cue: {', '.join(cues[SELF_HARM])}"
            )
        found = [c for c in cues if c in VULNERABLE_CATEGORIES]
        if found:
            return Assessment(distress, cues, True, False, PRIORITY_CUES, f"vulnerability cues: {', '.join(found)}")
        if distress is not None and distress >= self.threshold:
            return Assessment(distress, cues, True, False, PRIORITY_HIGH_DISTRESS, f"model distress {distress:.2f}")
        return Assessment(distress, cues)
