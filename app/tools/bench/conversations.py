"""Scripted debtor conversations for the benchmark, in all four locales.

Each script is what a person with one of the demo debtors' letters would type: greet, ask what
they owe (which starts verification), give the reference and their date of birth the way people
in that country write them, read the balance, ask for a payment plan, give terms and a first
date, look at the offer and leave without agreeing (so the same scripts can run any number of
times against the same database). Two wordings per locale, used in turn.

A turn's `expect` are markers that must be in the reply (texts or button payloads): amounts and
payloads, not wordings, because admins may edit texts (tone/ overrides) while a benchmark runs.
Every reply is also checked against the texts that mean something went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from locales import Catalog

WEEKLY_BUTTON = '/inform{"frequency": "weekly"}'
# Replies that mean the turn failed, whatever the script expected.
FAILURE_KEYS = ("utter_default", "utter_unavailable", "utter_verification_failed", "utter_verification_locked")


@dataclass(frozen=True)
class Turn:
    text: str
    expect: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    name: str
    locale: str
    turns: tuple[Turn, ...] = field(default_factory=tuple)


def _script(name: str, locale: str, steps: list[tuple[str, tuple[str, ...]]]) -> Script:
    return Script(name=name, locale=locale, turns=tuple(Turn(text, expect) for text, expect in steps))


def _flow(
    locale: str,
    variant: str,
    *,
    total: str,
    greet: str,
    question: str,
    reference: str,
    dob: str,
    plan: str,
    terms: str,
    frequency: str | None,
    first_date: str,
    bye: str,
    offer: tuple[str, ...] = ("/affirm",),
) -> Script:
    steps: list[tuple[str, tuple[str, ...]]] = [
        (greet, ("/check_balance",)),
        (question, ()),
        (reference, ()),
        (dob, (total,)),
        (plan, ()),
        (terms, (WEEKLY_BUTTON,) if frequency else ()),
    ]
    if frequency:
        steps.append((frequency, ()))
    steps += [(first_date, offer), (bye, ())]
    return _script(f"{locale}-{variant}", locale, steps)


SCRIPTS: tuple[Script, ...] = (
    _flow(
        "en", "a", total="£612.45", greet="hi there", question="how much do i owe", reference="UK-300552",
        dob="21/07/1992", plan="can i pay in instalments", terms="6 payments", frequency="monthly",
        first_date="tomorrow", bye="bye", offer=("/affirm", "£612.45"),
    ),
    _flow(
        "sv", "a", total="4 250,00 kr", greet="hej hej", question="hur mycket ar skulden", reference="SE-100234",
        dob="12.04.1985", plan="kan jag få en avbetalningsplan", terms="6 betalningar", frequency="månadsvis",
        first_date="imorgon", bye="hejdå", offer=("/affirm", "4 250,00 kr"),
    ),
    _flow(
        "de", "a", total="408,40 €", greet="hallo, guten tag", question="wie hoch ist meine forderung",
        reference="DE-200871", dob="03.11.1979", plan="kann ich in raten zahlen", terms="6 Raten",
        frequency="monatlich", first_date="morgen", bye="tschüss",
    ),
    _flow(
        "pt-BR", "a", total="R$ 1.250,00", greet="oi, bom dia", question="quanto eu devo", reference="BR-400918",
        dob="14 de fevereiro de 1990", plan="quero parcelar", terms="em 10x", frequency="mensal",
        first_date="amanhã", bye="tchau", offer=("/affirm", "R$ 1.250,00"),
    ),
    _flow(
        "en", "b", total="£612.45", greet="hello", question="what's my balance?", reference="my reference is uk300552",
        dob="21st July 1992", plan="can I set up a payment plan", terms="£60 a month", frequency=None,
        first_date="next friday", bye="goodbye",
    ),
    _flow(
        "sv", "b", total="4 250,00 kr", greet="hej!", question="vad är min skuld?", reference="se 100234",
        dob="12 april 1985", plan="kan jag dela upp betalningen", terms="800 kr i månaden", frequency=None,
        first_date="nästa fredag", bye="hej då",
    ),
    _flow(
        "de", "b", total="408,40 €", greet="guten morgen", question="was schulde ich?",
        reference="mein aktenzeichen ist de 200871", dob="3. November 1979",
        plan="ich möchte eine ratenzahlung vereinbaren", terms="50 € im monat", frequency=None,
        first_date="nächsten freitag", bye="auf wiedersehen",
    ),
    _flow(
        "pt-BR", "b", total="R$ 1.250,00", greet="olá", question="qual é o meu saldo?", reference="br400918",
        dob="14/02/1990", plan="posso pagar parcelado?", terms="R$ 200 por mês", frequency=None,
        first_date="sexta que vem", bye="até mais",
    ),
)  # fmt: skip


def plan(count: int) -> list[Script]:
    """`count` conversations, cycling through the scripts (so every locale is in any 4 in a row)."""
    return [SCRIPTS[i % len(SCRIPTS)] for i in range(count)]


def plain(text: str) -> str:
    """Babel's non-breaking spaces as plain spaces, so markers can be written normally."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


class Checker:
    """Decides whether a turn's reply is the one the script expects (None) or what is wrong."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or Catalog()
        self._failures: dict[str, tuple[str, ...]] = {}

    def failures(self, locale: str) -> tuple[str, ...]:
        if locale not in self._failures:
            found = set()
            for key in FAILURE_KEYS:
                for tone in self.catalog.variants(key, locale):
                    prefix = plain(self.catalog.default_text(key, locale, tone)).split("{")[0].strip()
                    if len(prefix) >= 8:
                        found.add(prefix)
            self._failures[locale] = tuple(sorted(found))
        return self._failures[locale]

    def problem(self, turn: Turn, locale: str, messages: list[dict]) -> str | None:
        if not messages:
            return "no reply"
        texts = [plain(str(m.get("text") or "")) for m in messages]
        payloads = [str(b.get("payload", "")) for m in messages for b in m.get("buttons") or []]
        for text in texts:
            if any(text.startswith(prefix) for prefix in self.failures(locale)):
                return f"failure reply: {text[:120]!r}"
        haystack = "\n".join(texts + payloads)
        missing = [marker for marker in turn.expect if marker not in haystack]
        if missing:
            return f"missing {missing} in {haystack[:300]!r}"
        return None
