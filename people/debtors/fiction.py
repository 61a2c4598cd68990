"""Telephone numbers reserved for fiction: the only ones demo data, docs and the README may use.

A made-up number that happens to be real rings a real person (or texts them a debt reminder);
these ranges are never assigned to anyone. Each entry: a pattern over the E.164 form and its source.
Brazil has none: Anatel publishes no numbers reserved for fiction, so the Brazilian demo debtor
has no phone number at all (people/debtors/seed.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FictionRange:
    country: str
    pattern: re.Pattern[str]
    source: str


FICTION_RANGES: tuple[FictionRange, ...] = (
    # UK: Ofcom's numbers for TV, radio and film drama, mobile block 07700 900000–900999.
    FictionRange("GB", re.compile(r"\+447700900\d{3}"), "Ofcom, drama numbers: 07700 900000 to 07700 900999"),
    # Sweden: PTS, numbers for use in fiction (2020), mobile 070-174 06 05 to 070-174 06 99.
    FictionRange("SE", re.compile(r"\+467017406(0[5-9]|[1-9]\d)"), "PTS, fiction numbers: 070-1740605 to 070-1740699"),
    # Germany: Bundesnetzagentur, Mitteilung 148/2021 (Amtsblatt 7/2021, p. 489), "Drama Numbers":
    # Berlin (0)30 23125 000–999 (also Frankfurt 69 90009, Hamburg 40 66969, Köln 221 4710,
    # München 89 99998) and mobile numbers given by the network operators, e.g. 0152 28817386.
    FictionRange("DE", re.compile(r"\+4930231250\d{2}|\+493023125\d{3}"), "BNetzA drama numbers: (0)30 23125 000-999"),
    FictionRange("DE", re.compile(r"\+4969900090\d{2}|\+496990009\d{3}"), "BNetzA drama numbers: (0)69 90009 000-999"),
    FictionRange("DE", re.compile(r"\+4940669690\d{2}|\+494066969\d{3}"), "BNetzA drama numbers: (0)40 66969 000-999"),
    FictionRange("DE", re.compile(r"\+492214710\d{3}"), "BNetzA drama numbers: (0)221 4710 000-999"),
    FictionRange("DE", re.compile(r"\+498999998\d{3}"), "BNetzA drama numbers: (0)89 99998 000-999"),
    FictionRange("DE", re.compile(r"\+4915228817386"), "BNetzA drama numbers, mobile: 0152 28817386"),
    # North America: NANPA reserves 555-0100 to 555-0199 in every area code for fiction.
    FictionRange("US", re.compile(r"\+1[2-9]\d{2}55501\d{2}"), "NANPA: NXX 555-0100 to 555-0199 for fictitious use"),
)


def digits(number: str) -> str:
    """The E.164 form of a number written with spaces, dashes or brackets."""
    return "+" + re.sub(r"\D", "", number)


def fiction_range(number: str) -> FictionRange | None:
    """The reserved range this number lies in, or None (then it may belong to someone)."""
    e164 = digits(number)
    return next((r for r in FICTION_RANGES if r.pattern.fullmatch(e164)), None)
