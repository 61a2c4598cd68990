"""Find and redact payment card numbers (PAN) in free text, before anything stores or logs it.

A card number is 13–19 digits passing the Luhn check, possibly written with single spaces or
dashes ("4242 4242 4242 4242", "4242-4242-4242-4242"), anywhere in a message, even run together
with other digits ("ref 12 4242424242424242").
"""

from __future__ import annotations

import re

MARKER = "[REDACTED CARD]"
_RUN = re.compile(r"\d(?:[ \-]?\d)*")
MIN_DIGITS, MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _card_spans(run: str, offset: int) -> list[tuple[int, int]]:
    """Character spans of Luhn-valid windows of 13–19 digits in one run of digits."""
    positions = [i for i, ch in enumerate(run) if ch.isdigit()]
    digits = "".join(run[i] for i in positions)
    spans: list[tuple[int, int]] = []
    start = 0
    while start + MIN_DIGITS <= len(digits):
        found = None
        for length in range(min(MAX_DIGITS, len(digits) - start), MIN_DIGITS - 1, -1):
            if luhn_valid(digits[start : start + length]):
                found = length
                break
        if found is None:
            start += 1
            continue
        spans.append((offset + positions[start], offset + positions[start + found - 1] + 1))
        start += found
    return spans


def redact_card_numbers(text: str) -> tuple[str, bool]:
    """The text with every card number replaced by MARKER, and whether any was found."""
    spans: list[tuple[int, int]] = []
    for match in _RUN.finditer(text):
        if sum(ch.isdigit() for ch in match.group()) >= MIN_DIGITS:
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
