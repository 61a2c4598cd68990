"""Reading why a debt is disputed and which one, in all four languages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from money.disputes.models import DisputeReason
from money.disputes.reading import explains, named_debt, read_reason

NOT_MINE, PAID, AMOUNT, OTHER = (
    DisputeReason.NOT_MINE, DisputeReason.ALREADY_PAID, DisputeReason.WRONG_AMOUNT, DisputeReason.OTHER
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("this isn't my debt", NOT_MINE),
        ("I've never heard of this company", NOT_MINE),
        ("i paid this off years ago", PAID),
        ("the balance is wrong, i owe less than that", AMOUNT),
        ("det är inte min skuld", NOT_MINE),
        ("jag har redan betalat", PAID),
        ("beloppet är för högt", AMOUNT),
        ("Das ist nicht meine Rechnung", NOT_MINE),
        ("Ich habe schon bezahlt", PAID),
        ("Der Betrag ist zu hoch", AMOUNT),
        ("essa dívida não é minha", NOT_MINE),
        ("nao e minha", NOT_MINE),
        ("já paguei", PAID),
        ("o valor está errado", AMOUNT),
        ("unpaid bills are stressing me", None),  # "unpaid" is not "paid"
        ("i dispute this debt", None),  # no reason given: asked
        ("ich habe das nicht bezahlt, das ist nicht meins", None),  # two reasons: the debtor picks
        ('/dispute_debt{"dispute_reason": "not_mine"}', None),  # a button is read from its entity
    ],
)
def test_reasons_in_all_languages(text: str, reason: DisputeReason | None) -> None:
    assert read_reason(text, answering=False) == reason


def test_something_else_counts_only_as_a_short_answer_to_why() -> None:
    for text in ("something else", "Något annat", "etwas anderes", "outro motivo"):
        assert read_reason(text, answering=True) is OTHER
        assert read_reason(text, answering=False) is None
    assert read_reason("the other one was fine but do you do other languages", answering=True) is None
    assert explains("I returned the phone in March and they kept charging")
    assert not explains("hmm what") and not explains('/dispute_debt{"debt_ref": "X"}')


@dataclass(frozen=True)
class Line:
    creditor: str
    reference: str


def test_the_debt_is_named_by_reference_or_by_creditor() -> None:
    telecom, elkraft = Line("Nordic Telecom AB", "NT-7781203"), Line("ElKraft AB", "EK-552310")
    debts = [telecom, elkraft]
    assert named_debt("NT-7781203 är inte min", debts) is telecom
    assert named_debt("nt 7781203", debts) is telecom
    assert named_debt("the telecom one", debts) is telecom
    assert named_debt("Elkraft", debts) is elkraft
    assert named_debt("ab", debts) is None  # a company form names no creditor
    assert named_debt("both of them, telecom and elkraft", debts) is None
    assert named_debt("no idea", debts) is None
