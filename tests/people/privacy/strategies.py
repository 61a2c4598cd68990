"""Hypothesis strategies for personal data as people write it: card numbers in any grouping,
IBANs, national ID numbers, and the text around them."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from core.pii.cards import luhn_valid
from core.pii.identifiers import IBAN_LENGTHS

# What people put between digit groups (the redactor allows up to three such characters).
CARD_SEPARATORS = ("", " ", "-", "  ", " - ", "--", "- ", " -")
# Text around a number: letters (ours and others'), digits, punctuation, spaces.
FILLER = string.ascii_letters + string.digits + " .,:;!?()#/+'\"€$%=" + "åäöüßçãéÅÖ"


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@st.composite
def written_cards(draw: st.DrawFn) -> tuple[str, str]:
    """(the digits, as written): a Luhn-valid number of 13–19 digits in any grouping."""
    digits = with_check_digit(draw(st.text(alphabet=string.digits, min_size=12, max_size=18)))
    pieces, start = [], 0
    while start < len(digits):
        size = draw(st.integers(min_value=1, max_value=len(digits) - start))
        pieces.append(digits[start : start + size])
        start += size
    separators = draw(st.lists(st.sampled_from(CARD_SEPARATORS), min_size=len(pieces) - 1, max_size=len(pieces) - 1))
    return digits, pieces[0] + "".join(sep + piece for sep, piece in zip(separators, pieces[1:], strict=True))


fillers = st.text(alphabet=FILLER, max_size=25)


@st.composite
def messages_with_card(draw: st.DrawFn) -> tuple[str, str]:
    """(the card's digits, a message): the card anywhere, right next to other text or digits."""
    digits, written = draw(written_cards())
    return digits, draw(fillers) + written + draw(fillers)


def iban_check(country: str, bban: str) -> str:
    """The IBAN with its two check digits (ISO 7064 MOD 97-10)."""
    number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid IBAN of a registry country, printed in groups of four or not, either case."""
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    alphabet = string.digits + string.ascii_uppercase
    bban = draw(st.text(alphabet=alphabet, min_size=IBAN_LENGTHS[country] - 4, max_size=IBAN_LENGTHS[country] - 4))
    iban = iban_check(country, bban)
    if draw(st.booleans()):
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban.lower() if draw(st.booleans()) else iban


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    """A Swedish personnummer or samordningsnummer, in its 10- or 12-digit forms."""
    year = draw(st.integers(min_value=1900, max_value=2025))
    month = draw(st.integers(min_value=1, max_value=12))
    day = draw(st.integers(min_value=1, max_value=28)) + (60 if draw(st.booleans()) else 0)
    serial = draw(st.text(alphabet=string.digits, min_size=3, max_size=3))
    ten = with_check_digit(f"{year % 100:02d}{month:02d}{day:02d}{serial}")
    separator = draw(st.sampled_from(["-", "+", ""]))
    century = f"{year // 100}" if draw(st.booleans()) else ""
    return f"{century}{ten[:6]}{separator}{ten[6:]}"


def cpf_digits(nine: str) -> str:
    digits = nine
    for size in (9, 10):
        total = sum(int(d) * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits += str(total * 10 % 11 % 10)
    return digits


@st.composite
def cpfs(draw: st.DrawFn) -> str:
    nine = draw(st.text(alphabet=string.digits, min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1))
    d = cpf_digits(nine)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}" if draw(st.booleans()) else d


def steuer_check(ten: str) -> str:
    product = 10
    for d in ten:
        total = (int(d) + product) % 10 or 10
        product = total * 2 % 11
    return ten + str((11 - product) % 10)


@st.composite
def steuer_ids(draw: st.DrawFn) -> str:
    """German tax ID: ten digits where exactly one digit appears twice, then the check digit."""
    order = draw(st.permutations(string.digits))
    ten = [*list(order[:9]), draw(st.sampled_from(order[:9]))]
    ten = draw(st.permutations(ten)).copy()
    first = next(i for i, d in enumerate(ten) if d != "0")  # no leading zero
    ten[0], ten[first] = ten[first], ten[0]
    d = steuer_check("".join(ten))
    return f"{d[:2]} {d[2:5]} {d[5:8]} {d[8:]}" if draw(st.booleans()) else d


@st.composite
def ninos(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("ABCEGHJKLMNOPRSTWXYZ"))
    second = draw(st.sampled_from("ABCEGHJKLMNPRSTWXYZ"))
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        first, second = "A", "B"
    numbers = draw(st.text(alphabet=string.digits, min_size=6, max_size=6))
    suffix = draw(st.sampled_from(["A", "B", "C", "D", ""]))
    if draw(st.booleans()):
        return f"{first}{second} {numbers[:2]} {numbers[2:4]} {numbers[4:]} {suffix}".strip()
    return f"{first}{second}{numbers}{suffix}"


national_ids = st.one_of(personnummer(), cpfs(), steuer_ids(), ninos())
