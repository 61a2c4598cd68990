"""Texts at the channel edge: `sanitize` what arrives, split what leaves for channels with a length
limit (SMS/WhatsApp via Twilio, Telegram).

Lengths are counted in UTF-16 code units, the way both Twilio and Telegram count (an emoji
outside the Basic Multilingual Plane counts 2).
"""

from __future__ import annotations

import re
import unicodedata

# Where a long text may be cut, best first. The cut goes where the match starts; whitespace at the
# cut is dropped, everything else is kept as written.
_BREAKS = (
    re.compile(r"\n[ \t\r\f\v]*\n"),  # paragraph
    re.compile(r"\n"),  # line
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+"),  # sentence end
    re.compile(r"\s+"),  # word
)


def units(text: str) -> int:
    """Length in UTF-16 code units, the way Twilio counts (an emoji outside the BMP counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _fitting(text: str, limit: int) -> int:
    """How many leading characters of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _best_break(text: str, end: int) -> int | None:
    """The start of the best break at or before `end` (the whitespace there is dropped)."""
    for pattern in _BREAKS:
        best = None
        for match in pattern.finditer(text):
            if match.start() > end:
                break
            if match.start() > 0:
                best = match.start()
        if best is not None:
            return best
    return None


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` characters (UTF-16 code units, as Twilio counts).

    Cuts at the last paragraph break that fits, else the last line break, else the last sentence
    end, else the last space; only a single word longer than `limit` is cut inside. Whitespace at a
    cut is dropped; nothing else is lost or reordered, and no part is empty (blank text gives []).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        end = _fitting(rest, limit)
        if end >= len(rest):
            parts.append(rest)
            break
        cut = _best_break(rest, end)
        if cut is None:  # one word longer than the limit: cut it, not inside a combining sequence
            cut = end
            while cut > 1 and unicodedata.combining(rest[cut]):
                cut -= 1
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def sanitize(text: str) -> str:
    """NFC, no control characters (newlines and tabs become spaces), trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if ch in "\n\r\t" else ch
        for ch in text
        if ch in "\n\r\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return re.sub(r"\s+", " ", text).strip()
