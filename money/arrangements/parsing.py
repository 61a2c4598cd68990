"""Read amounts, plan terms and payment dates the way people type them in en, sv, de and pt-BR.

"500 kr", "£50", "R$ 200", "50 euro", "200,50", "1.250,00", "4 250 kr"; "6 months", "10x",
"£20 a month"; "tomorrow", "friday", "den 25:e", "am 15.", "dia 10", "25 maj", "12/12",
"in 5 days", "end of the month", and every absolute date identity.dates understands.
The word lists below are recognition vocabulary (what people type), not user-facing text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from money.arrangements.models import Frequency
from money.arrangements.schedule import add_months
from people.identity.dates import MONTHS, fold, parse_date

CURRENCIES = {
    "r$": "BRL", "brl": "BRL", "reais": "BRL", "real": "BRL",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "pund": "GBP", "quid": "GBP",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "kr": "SEK", "kronor": "SEK", "sek": "SEK", "spann": "SEK",
}  # fmt: skip
_CURRENCY = "|".join(re.escape(c) for c in sorted(CURRENCIES, key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:[ \u00a0.,']\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)"
_AMOUNT = re.compile(rf"(?:(?<![a-z])({_CURRENCY})\s?)?({_NUMBER})(?:\s?({_CURRENCY})(?![a-z]))?")
_ORDINAL_AFTER = re.compile(r"(?:st|nd|rd|th|:e|:a|e|a|o)\b")
_DATE_WORD_BEFORE = re.compile(r"\b(?:den|am|dia|the|on|zum|by|till|until|bis)\s+$")
_FULL_DATE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th|:e|e)?\.?\s*(?:de\s+|of\s+)?[a-z]{3,10}\.?,?\s*(?:de\s+)?\d{4}\b"
)
_FULL_AMOUNT = re.compile(
    r"\b(?:all|everything|full|whole|the lot|allt|hela|alles|komplett|gesamte?n?|vollstandig|tudo|total|inteiro|integral)\b"
)

_COUNT_WORDS = (
    "installments?|instalments?|payments?|parts?|times|delbetalningar|avbetalningar|betalningar|delar|ganger|"
    "omgangar|rater|raten|zahlungen|teile|mal|parcelas?|vezes|prestacoes|pagamentos|x"
)
_WEEKS = "weeks?|veckor|wochen|semanas"
_MONTHS = "months?|manader|monate|monaten|meses"
_COUNT = re.compile(rf"\b(\d{{1,3}})\s*(?:(?:{_COUNT_WORDS})|({_WEEKS})|({_MONTHS}))\b")
_WEEKLY = re.compile(
    r"\b(?:week|weekly|weeks|pw|vecka|veckan|veckor|veckovis|woche|wochen|wochentlich|semana|semanas|semanal|semanalmente)\b"
)
_MONTHLY = re.compile(
    r"\b(?:month|months|monthly|pcm|manad|manaden|manader|manadsvis|monat|monate|monaten|monatlich|mes|meses|mensal|mensalmente|mensais)\b"
)


def parse_amount(text: str) -> tuple[Decimal, str | None] | None:
    """The amount in `text` and its currency if one was written. A number next to a currency
    wins; numbers that are dates ("the 25th", "den 25:e", "12.05.2026") are skipped."""
    t = _FULL_DATE.sub(" ", fold(text))
    found: list[tuple[Decimal, str | None]] = []
    for m in _AMOUNT.finditer(t):
        currency = CURRENCIES.get(m[1] or m[3] or "")
        if currency is None and (_ORDINAL_AFTER.match(t, m.end()) or _DATE_WORD_BEFORE.search(t[: m.start()])):
            continue
        value = _number(m[2])
        if currency:
            return value, currency
        found.append((value, None))
    return found[0] if found else None


def _number(raw: str) -> Decimal:
    raw = raw.replace("\u00a0", " ")
    decimals = re.search(r"[.,](\d{1,2})$", raw)
    whole = raw[: decimals.start()] if decimals else raw
    digits = re.sub(r"\D", "", whole)
    return Decimal(f"{digits}.{decimals[1]}" if decimals else digits)


def wants_full_amount(text: str) -> bool:
    return bool(_FULL_AMOUNT.search(fold(text)))


def parse_frequency(text: str) -> Frequency | None:
    t = fold(text)
    weekly, monthly = _WEEKLY.search(t), _MONTHLY.search(t)
    if weekly and not monthly:
        return Frequency.WEEKLY
    if monthly and not weekly:
        return Frequency.MONTHLY
    return None


@dataclass(frozen=True)
class PlanTerms:
    amount: Decimal | None = None
    currency: str | None = None
    count: int | None = None
    frequency: Frequency | None = None


def parse_terms(text: str, *, minimum: Decimal) -> PlanTerms | None:
    """An amount per installment or a number of installments, and a frequency if said.

    "6 months", "10x", "12 Raten" are counts; "£20", "200 kr", "50,00" amounts ("50 a month
    for 6 months" is an amount). A bare whole number ("6": no currency, no "a month") is a
    count when it is at most 52 and below the minimum installment (nobody offers £6 when £10
    is the least accepted), otherwise an amount.
    """
    t = fold(text)
    frequency = parse_frequency(t)
    if m := _COUNT.search(t):
        if frequency is None:
            frequency = Frequency.WEEKLY if m[2] else Frequency.MONTHLY if m[3] else None
        rest = parse_amount(t[: m.start()] + " " + t[m.end() :])
        if rest is None:
            return PlanTerms(count=int(m[1]), frequency=frequency)
        return PlanTerms(amount=rest[0], currency=rest[1], frequency=frequency)
    if (found := parse_amount(t)) is None:
        return None
    value, currency = found
    bare = currency is None and frequency is None and value == value.to_integral_value()
    if bare and 0 < value <= 52 and value < minimum:
        return PlanTerms(count=int(value), frequency=frequency)
    return PlanTerms(amount=value, currency=currency, frequency=frequency)


# -- dates ----------------------------------------------------------------------------------
WEEKDAYS: dict[str, int] = {}
for _day, _words in enumerate(
    [
        "monday mon mandag montag segunda segunda-feira",
        "tuesday tue tues tisdag dienstag terca terca-feira",
        "wednesday wed onsdag mittwoch quarta quarta-feira",
        "thursday thu thur thurs torsdag donnerstag quinta quinta-feira",
        "friday fri fredag freitag sexta sexta-feira",
        "saturday sat lordag samstag sonnabend sabado",
        "sunday sun sondag sonntag domingo",
    ]
):
    WEEKDAYS.update(dict.fromkeys(_words.split(), _day))

_DAY_AFTER_TOMORROW = re.compile(r"\b(?:day after tomorrow|i ?overmorgon|ubermorgen|depois de amanha)\b")
_TOMORROW = re.compile(r"\b(?:tomorrow|tmrw|tmr|i ?morgon|morgen|amanha)\b")
_TODAY = re.compile(r"\b(?:today|i ?dag|heute|hoje)\b")
_IN_DAYS = re.compile(
    r"\b(?:in|om|inom|em|daqui a)\s+(\d{1,3})\s+(?:(days?|dagar|dag|tagen?|tag|dias?)|(weeks?|veckor|wochen|semanas))\b"
)
_END_OF_MONTH = re.compile(
    r"\b(?:end of (?:the )?month|slutet av manaden|manadsskiftet|monatsende|ende (?:des )?monats|(?:fim|final) do mes)\b"
)
_NEXT_MONTH = re.compile(r"\b(?:next month|nasta manad|nachsten monat|nachster monat|mes que vem|proximo mes)\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(sorted(map(re.escape, WEEKDAYS), key=len, reverse=True)) + r")\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|:e|e|o)?\.?\s*(?:de\s+|of\s+)?([a-z]{3,10})\b")
_MONTH_DAY = re.compile(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_NUMERIC_DAY_MONTH = re.compile(r"(?<![\d.,/])(\d{1,2})[./](\d{1,2})\.?(?![\d/])(?![.,]\d)")
_DAY_OF_MONTH = re.compile(
    r"(?:\b(?:den|am|dia|the|zum|on)\s+)(\d{1,2})(?:st|nd|rd|th|:e|:a|e|o|\.)?(?!\d)|\b(\d{1,2})(?:st|nd|rd|th|:e|:a)\b"
)
_BARE_DAY = re.compile(r"^\s*(\d{1,2})\s*\.?\s*$")


def _next_day_month(day: int, month: int, today: date) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _day_of_month(day: int, today: date, *, next_month: bool) -> date | None:
    if not 1 <= day <= 31:
        return None
    start = add_months(today.replace(day=1), 1) if next_month else today.replace(day=1)
    candidate = add_months(start, 0, anchor_day=day)
    if candidate < today:
        candidate = add_months(start, 1, anchor_day=day)
    return candidate


def parse_when(text: str, *, today: date, date_order: str = "DMY", bare_day: bool = True) -> date | None:
    """The payment date in `text`, relative to the debtor's `today`, or None. A message that is
    only a number ("25") is a day of the month when `bare_day` (the date was asked for)."""
    t = fold(text)
    if absolute := parse_date(t, date_order=date_order, today=today):
        return absolute
    for m in _DAY_MONTH.finditer(t):
        if m[2] in MONTHS and (found := _next_day_month(int(m[1]), MONTHS[m[2]], today)):
            return found
    for m in _MONTH_DAY.finditer(t):
        if m[1] in MONTHS and (found := _next_day_month(int(m[2]), MONTHS[m[1]], today)):
            return found
    for m in _NUMERIC_DAY_MONTH.finditer(t):
        if found := _next_day_month(int(m[1]), int(m[2]), today):
            return found
    if _DAY_AFTER_TOMORROW.search(t):
        return today + timedelta(days=2)
    if _TOMORROW.search(t):
        return today + timedelta(days=1)
    if _TODAY.search(t):
        return today
    if days := _IN_DAYS.search(t):
        return today + timedelta(days=int(days[1]) * (7 if days[3] else 1))
    if _END_OF_MONTH.search(t):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if weekday := _WEEKDAY.search(t):
        return today + timedelta(days=(WEEKDAYS[weekday[1]] - today.weekday() - 1) % 7 + 1)
    if day_of_month := _DAY_OF_MONTH.search(t) or (_BARE_DAY.match(t) if bare_day else None):
        day = int(next(g for g in day_of_month.groups() if g))
        return _day_of_month(day, today, next_month=bool(_NEXT_MONTH.search(t)))
    return None
