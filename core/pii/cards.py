"""Find and redact payment card numbers (PAN) in free text, before anything stores or logs it.

A card number is 13–19 digits passing the Luhn check, anywhere in a message, even run together
with other digits ("ref 12 4242424242424242": then the neighbours may go too). Between digits people write up to three
separators: spaces of any kind (tabs, line breaks, no-break spaces), dashes of any kind
("4242 - 4242 – 4242 4242") and invisible format characters (a zero-width space pasted from a
banking app). Digits of any script count (full-width "４２４２…" too): the check uses their value.
"""

from __future__ import annotations

import re
import unicodedata

MARKER = "[REDACTED CARD]"
# Whitespace, every dash (Pd) and minus sign, soft hyphen and zero-width characters.
_SEPARATOR = r"[\s\-\u00ad\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u200b-\u200d\u2060\ufeff]"
_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,3}}\d)*")
MIN_DIGITS, MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = unicodedata.decimal(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _card_spans(run: str, offset: int) -> list[tuple[int, int]]:
    """Character spans covering every Luhn-valid window of 13–19 digits in one run of digits.

    Every window, not the first that fits: a card written right after other digits ("ref 12
    4242…") must be covered whole even when a window starting at those digits passes too."""
    positions = [i for i, ch in enumerate(run) if unicodedata.decimal(ch, None) is not None]
    values = [unicodedata.decimal(run[i]) for i in positions]
    covered = [False] * len(values)
    for end in range(MIN_DIGITS, len(values) + 1):
        total = 0  # Luhn sum of values[start:end], grown leftwards from the check digit
        for length in range(1, min(MAX_DIGITS, end) + 1):
            n = values[end - length] * (2 if length % 2 == 0 else 1)
            total += n - 9 if n > 9 else n
            if length >= MIN_DIGITS and total % 10 == 0:
                covered[end - length : end] = [True] * length
    spans: list[tuple[int, int]] = []
    first: int | None = None
    for index, hit in enumerate([*covered, False]):
        if hit and first is None:
            first = index
        elif not hit and first is not None:
            spans.append((offset + positions[first], offset + positions[index - 1] + 1))
            first = None
    return spans


def redact_card_numbers(text: str) -> tuple[str, bool]:
    """The text with every card number replaced by MARKER, and whether any was found."""
    spans: list[tuple[int, int]] = []
    for match in _RUN.finditer(text):
        if sum(unicodedata.decimal(ch, None) is not None for ch in match.group()) >= MIN_DIGITS:
            spans.extend(_card_spans(match.group(), match.start()))
    if not spans:
        return text, False
    pieces, last = [], 0
    for begin, end in spans:
        pieces.append(text[last:begin])
        pieces.append(MARKER)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), True
