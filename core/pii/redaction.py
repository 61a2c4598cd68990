"""Everything a log line must not carry, masked in one pass: IBANs, card numbers, national IDs.

Order matters: an IBAN is masked first (its long digit run could otherwise pass as a card number
and leave the country code and bank code readable), then card numbers (a national ID pattern
could match part of a card's digit groups), then national ID numbers.
"""

from __future__ import annotations

import re

from core.pii.cards import redact_card_numbers
from core.pii.identifiers import redact_ibans, redact_national_ids

_DIGIT = re.compile(r"\d")


def redact_for_logs(text: str) -> str:
    """The text with every IBAN, card number and national ID number masked."""
    if not _DIGIT.search(text):
        return text  # every detector needs digits: most log lines stop here
    text, _ = redact_ibans(text)
    text, _ = redact_card_numbers(text)
    text, _ = redact_national_ids(text)
    return text
