"""Choose the language a conversation continues in, from the message and its context.

The message alone rarely settles it for short replies ("ja", "ok", "nein", "oi"), so: an
explicit choice is kept; otherwise a conversation switches only on a confident detection of a
message long enough to mean it; the first message falls back to a hint (browser language,
the debtor's stored locale) and then the default.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.language.detector import Detection, tokens

SWITCH_CONFIDENCE = 0.90
SWITCH_MIN_WORDS = 3
FIRST_CONFIDENCE = 0.60


@dataclass(frozen=True)
class Choice:
    locale: str
    switched: bool


def choose(
    *,
    detection: Detection,
    text: str,
    current: str | None,
    locked: bool,
    prior: str | None,
    default: str,
) -> Choice:
    if text.startswith("/"):  # a button payload carries no language
        return Choice(locale=current or prior or default, switched=False)
    if current is None:
        if detection.locale and detection.confidence >= FIRST_CONFIDENCE:
            return Choice(locale=detection.locale, switched=False)
        return Choice(locale=prior or default, switched=False)
    if locked or detection.locale in (None, current):
        return Choice(locale=current, switched=False)
    long_enough = len(tokens(text)) >= SWITCH_MIN_WORDS
    if long_enough and detection.confidence >= SWITCH_CONFIDENCE:
        return Choice(locale=detection.locale, switched=True)
    return Choice(locale=current, switched=False)
