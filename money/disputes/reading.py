"""Reading a dispute from what people type: why (not mine / already paid / wrong amount / other)
and which debt. Pure functions, tested without Rasa.

The word lists are recognition vocabulary (what debtors write, in en, sv, de and pt-BR), not
user-facing text. Text is folded (lowercase, no diacritics) and matched as whole words, so
"não é minha" and "nao e minha" read the same, and "unpaid" is not "paid".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from money.disputes.models import DisputeReason
from people.identity.dates import fold

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


_VOCABULARY: dict[DisputeReason, tuple[str, ...]] = {
    DisputeReason.NOT_MINE: (
        # en
        "not mine", "isn't mine", "isnt mine", "not my", "isn't my", "isnt my", "not me", "wasn't me", "wasnt me",
        "don't owe", "dont owe", "do not owe", "never had", "never signed", "never ordered", "never bought", "never heard",
        "don't recognise", "dont recognise", "don't recognize", "dont recognize", "do not recognise",
        "do not recognize", "wrong person", "wrong guy", "someone else", "identity theft", "fraud",
        "scam", "never been a customer", "never took out", "nothing to do with me",
        # sv
        "inte min", "inte mitt", "inte mina", "inte jag", "känner inte igen", "aldrig haft", "aldrig beställt",
        "aldrig tecknat", "fel person", "någon annan", "bedrägeri", "id-kapning", "identitetsstöld",
        "inte skyldig", "aldrig varit kund", "mina uppgifter",
        # de
        "nicht meine", "nicht mein", "nicht meins", "nicht von mir", "nicht ich", "kenne ich nicht",
        "gehört mir nicht", "nie bestellt", "nie gehabt", "niemals bestellt", "nie abgeschlossen",
        "nie etwas bestellt", "nie was bestellt", "nix bestellt", "nichts bestellt", "keinen vertrag",
        "nie einen vertrag", "kenne diese", "nicht der schuldner", "ned meins", "falsche person", "jemand anderes",
        "verwechslung", "betrug", "identität", "identitätsdiebstahl",
        # pt-BR
        "não é minha", "não é meu", "não reconheço", "nunca tive", "nunca contratei", "nunca comprei",
        "nunca fiz", "não fui eu", "não sou eu", "não devo", "pessoa errada", "outra pessoa", "fraude", "golpe",
        "roubo de identidade", "clonaram", "meus dados", "nunca fui cliente",
        "nunca assinei", "erraram de pessoa", "não conheço",
    ),
    DisputeReason.ALREADY_PAID: (
        # en
        "paid", "payed", "paid off", "settled", "receipt",
        # sv
        "betalt", "betalat", "betald", "betalade", "slutbetalt", "kvitto", "swishat",
        # de
        "bezahlt", "gezahlt", "abbezahlt", "überwiesen", "beglichen",
        # pt-BR
        "paguei", "pago", "paga", "quitei", "quitado", "quitada", "comprovante",
    ),
    DisputeReason.WRONG_AMOUNT: (
        # en
        "wrong amount", "amount is wrong", "amount wrong", "incorrect amount", "amount is incorrect", "too much",
        "too high", "owe less", "less than that", "balance is wrong", "wrong balance", "overcharged",
        "charged twice", "double charged", "wrong sum", "with the amount", "interest is wrong", "fees are wrong",
        # sv
        "fel belopp", "beloppet är fel", "beloppet stämmer inte", "felaktigt belopp", "för mycket", "för högt",
        "fel summa", "summan är fel", "summan stämmer inte", "dubbelt", "orimliga",
        # de
        "falscher betrag", "betrag ist falsch", "betrag stimmt nicht", "falsche summe", "summe ist falsch",
        "summe stimmt nicht", "höhe stimmt", "zu hoch", "zu viel", "doppelt", "überhöht", "falsch berechnet",
        "unberechtigt", "nicht gerechtfertigt",
        # pt-BR
        "valor errado", "valor está errado", "valor ta errado", "valor incorreto", "muito alto", "a mais",
        "cobrado duas vezes", "em dobro", "abusivo", "abusivos", "juros errado", "cobrando errado",
        "cobrança errada", "não concordo com o valor",
    ),
    # Only as the whole short answer to "why?" ("something else"): "the other one" is no reason.
    DisputeReason.OTHER: (
        "other", "something else", "another reason",
        "annat", "något annat", "annan anledning", "övrigt",
        "anderes", "etwas anderes", "anderer grund", "sonstiges",
        "outro", "outra coisa", "outro motivo", "outros",
    ),
}  # fmt: skip

VOCABULARY: dict[DisputeReason, tuple[str, ...]] = {
    reason: tuple(" ".join(words(p)) for p in phrases) for reason, phrases in _VOCABULARY.items()
}

# An unrecognised answer to "why?" this long is the debtor's own explanation ("other").
EXPLANATION_WORDS = 4
OTHER_MAX_WORDS = 3


def is_payload(text: str) -> bool:
    """A button press (`/intent{...}`), not typed words."""
    return text.lstrip().startswith("/")


def reasons_in(text: str) -> set[DisputeReason]:
    if is_payload(text):
        return set()
    padded = f" {' '.join(words(text))} "
    return {reason for reason, phrases in VOCABULARY.items() if any(f" {p} " in padded for p in phrases)}


def read_reason(text: str, *, answering: bool) -> DisputeReason | None:
    """The one reason the text gives, or None (none, or several: then the debtor picks).
    `answering`: the text answers "why?", where "something else" counts too."""
    found = reasons_in(text)
    specific = found - {DisputeReason.OTHER}
    if len(specific) == 1:
        return specific.pop()
    short = len(words(text)) <= OTHER_MAX_WORDS
    if not specific and answering and short and DisputeReason.OTHER in found:
        return DisputeReason.OTHER
    return None


def explains(text: str) -> bool:
    """Enough words to be an explanation in the debtor's own words."""
    return not is_payload(text) and len(words(text)) >= EXPLANATION_WORDS


class NamedDebt(Protocol):
    @property
    def creditor(self) -> str: ...

    @property
    def reference(self) -> str: ...


# Company-form words are shared by many creditors: they name none of them.
_GENERIC = {"ab", "gmbh", "ltd", "limited", "plc", "inc", "llc", "ltda", "sa", "ag", "kg", "co", "the", "und", "and"}


def _compact(text: str) -> str:
    return "".join(words(text))


def names(text: str, debt: NamedDebt) -> bool:
    """The text names this debt: its reference ("NT-7781203", "nt 7781203") or its creditor
    (the whole name, or a distinctive word of it: "telecom")."""
    if is_payload(text):
        return False
    said = words(text)
    if _compact(debt.reference) and _compact(debt.reference) in "".join(said):
        return True
    creditor = " ".join(words(debt.creditor))
    if creditor and f" {creditor} " in f" {' '.join(said)} ":
        return True
    distinctive = {w for w in words(debt.creditor) if len(w) >= 4 and w not in _GENERIC}
    return bool(distinctive & set(said))


D = TypeVar("D", bound=NamedDebt)


def named_debt(text: str, debts: Sequence[D]) -> D | None:
    """The one debt the text names, or None (none named, or several)."""
    named = [d for d in debts if names(text, d)]
    return named[0] if len(named) == 1 else None
