"""Find and mask bank account numbers (IBAN) and national ID numbers of our markets in free text.

Masked in logs, not in transcripts: an agent handling a dispute or a refund may need the IBAN or
the personnummer the debtor wrote, so the transcript keeps them (card numbers, which nobody may
take in chat, are redacted everywhere: core/pii/cards.py). Logs are read by more people, kept in
more places and never needed for that, so core/pii/redaction.py masks all of these there.

Every detector checks what the number itself proves (IBAN mod 97, Luhn, CPF and Steuer-ID check
digits, a real date of birth) so ordinary numbers (amounts, dates, references) stay readable:
- IBAN: country code, 2 check digits, 11–30 letters/digits, spaced or not, any case (ISO 13616).
- Swedish personnummer / samordningsnummer: (YY)YYMMDD, "-", "+" or nothing, 4 digits; Luhn
  over the 10 digits; a samordningsnummer's day is the day + 60.
- Brazilian CPF: 123.456.789-09 or 11 digits, both check digits (mod 11).
- German steuerliche Identifikationsnummer: 11 digits (often "12 345 678 901"), no leading 0,
  ISO 7064 MOD 11,10 check digit, one digit twice or three times in the first ten.
- UK National Insurance number: two prefix letters HMRC allocates, six digits, A–D suffix
  (often left off), uppercase, compact or in pairs ("AB 12 34 56 C").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

IBAN_MARKER = "[REDACTED IBAN]"
ID_MARKER = "[REDACTED NATIONAL ID]"

# ISO 13616 registry: countries with IBANs and their lengths.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Not inside a longer word or number (a hex id, a longer digit run).
_B, _E = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
# Zero-width, so a candidate that runs into the next IBAN does not hide it.
_IBAN = re.compile(rf"{_B}(?=([A-Za-z]{{2}}\d{{2}}(?:[ \-]?[0-9A-Za-z]){{11,30}}))")
_PERSONNUMMER = re.compile(rf"{_B}(?:18|19|20)?(\d{{6}})[-+ ]?(\d{{4}}){_E}")
_CPF = re.compile(rf"{_B}(\d{{3}})[. ]?(\d{{3}})[. ]?(\d{{3}})[-. ]?(\d{{2}}){_E}")
_STEUER_ID = re.compile(rf"{_B}([1-9]\d) ?(\d{{3}}) ?(\d{{3}}) ?(\d{{3}}){_E}")
# Uppercase, as HMRC prints it: compact ("AB123456C") or in pairs ("AB 12 34 56 C").
_NINO = re.compile(
    rf"{_B}(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    rf"(?:\d{{6}}[A-D]?|(?: \d\d){{3}}(?: [A-D])?){_E}"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def iban_valid(iban: str) -> bool:
    """ISO 13616: a known country, its length, and mod 97 of the rearranged number is 1."""
    compact = re.sub(r"[ \-]", "", iban).upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum() or not compact[2:4].isdigit():
        return False
    return int("".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])) % 97 == 1


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def personnummer_valid(digits: str) -> bool:
    """Ten digits YYMMDDNNNC: a real month and day (day + 60 for a samordningsnummer), Luhn."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    day = day - 60 if day > 60 else day
    return 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1] and _luhn(digits)


def cpf_valid(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(int(d) * weight for d, weight in zip(digits[:size], range(size + 1, 1, -1), strict=True))
        if (total * 10) % 11 % 10 != int(digits[size]):
            return False
    return True


def steuer_id_valid(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    counts = sorted(Counter(digits[:10]).values(), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] > 1):
        return False
    if counts[0] == 3 and any(digits[i] == digits[i + 1] == digits[i + 2] for i in range(8)):
        return False
    product = 10
    for d in digits[:10]:
        total = (int(d) + product) % 10 or 10
        product = (total * 2) % 11
    return (11 - product) % 10 == int(digits[10])


def _iban_spans(text: str) -> list[tuple[int, int]]:
    """The longest valid IBAN at the start of each candidate (a candidate may run into the next word)."""
    spans = []
    for match in _IBAN.finditer(text):
        raw = match.group(1)
        ends = [i + 1 for i, ch in enumerate(raw) if ch.isalnum()]  # end of the n-th character
        length = IBAN_LENGTHS.get(raw[:2].upper())
        if length and len(ends) >= length and iban_valid(raw[: ends[length - 1]]):
            spans.append((match.start(), match.start() + ends[length - 1]))
    return spans


def _spans(pattern: re.Pattern[str], valid: Callable[[str], bool], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text) if valid("".join(m.groups()))]


def _mask(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    """One marker per stretch of overlapping spans."""
    pieces, last = [], 0
    for begin, end in sorted(spans):
        if begin < last:  # overlaps what is already masked: mask up to its end too
            last = max(last, end)
            continue
        pieces += [text[last:begin], marker]
        last = end
    return "".join(pieces) + text[last:]


def redact_ibans(text: str) -> tuple[str, bool]:
    """The text with every valid IBAN replaced by IBAN_MARKER, and whether any was found."""
    spans = _iban_spans(text)
    return (_mask(text, spans, IBAN_MARKER), True) if spans else (text, False)


def redact_national_ids(text: str) -> tuple[str, bool]:
    """The text with every personnummer, CPF, Steuer-ID and NINO replaced by ID_MARKER."""
    spans = (
        _spans(_PERSONNUMMER, lambda d: personnummer_valid(d[-10:]), text)
        + _spans(_CPF, cpf_valid, text)
        + _spans(_STEUER_ID, steuer_id_valid, text)
        + [m.span() for m in _NINO.finditer(text)]
    )
    return (_mask(text, spans, ID_MARKER), True) if spans else (text, False)
