"""Vulnerability signals: per-locale cue lexicon (`signals.lexicon`), optional local distress
model (`signals.model`) and the combined scorer (`signals.service.SignalScorer`)."""

from engine.signals.lexicon import CATEGORIES, match_cues
from engine.signals.service import Assessment, SignalScorer

__all__ = ["CATEGORIES", "Assessment", "SignalScorer", "match_cues"]
