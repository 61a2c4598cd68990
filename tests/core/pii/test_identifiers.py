"""IBANs and national ID numbers of our markets are found by their check digits, anywhere in a
text; numbers that only look like them (a wrong check digit, dates, amounts, references) stay."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.pii.identifiers import (
    IBAN_MARKER,
    ID_MARKER,
    cpf_valid,
    iban_valid,
    personnummer_valid,
    redact_ibans,
    redact_national_ids,
    steuer_id_valid,
)
from tests.people.privacy.strategies import cpfs, ibans, national_ids, personnummer, steuer_ids

around = st.sampled_from(["", "my ", "IBAN: ", "nr ", "(", "id=", "\n"])
after = st.sampled_from(["", " thanks", ".", ")", ", ok", "\n"])


def compact(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).upper()


def test_published_examples() -> None:
    for iban in ("SE45 5000 0000 0583 9825 7466", "DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19"):
        assert iban_valid(iban) and redact_ibans(f"pay to {iban} please") == (f"pay to {IBAN_MARKER} please", True)
    assert iban_valid("BR1800360305000010009795493C1") and iban_valid("gb29nwbk60161331926819")
    for number in ("811218-9876", "19121212-1212", "701063-2391", "529.982.247-25", "86 095 742 719", "AB 12 34 56 C"):
        assert redact_national_ids(f"mine is {number}.") == (f"mine is {ID_MARKER}.", True), number


def test_one_wrong_digit_is_not_an_id() -> None:
    assert not iban_valid("SE45 5000 0000 0583 9825 7467")
    assert not personnummer_valid("8112189875") and not personnummer_valid("8113189876")  # month 13
    assert not cpf_valid("52998224726") and not cpf_valid("11111111111")
    assert not steuer_id_valid("86095742718") and not steuer_id_valid("12345678903")  # no repeated digit
    assert not steuer_id_valid("06095742719")


def test_ordinary_text_stays() -> None:
    for text in (
        "SE-100234", "DE-200871 born 03.11.1979", "I can pay 1.250,00 on 2026-10-10", "£612.45",
        "conversation 3f2a9c0e8b7d4e11a2b3c4d5e6f70812", "HTTP/1.1 200", "UK-300552", "QQ 12 34 56 C",
        "GB29 NWBK 6016 1331 9268 18", "call +46 70 123 45 67",
    ):  # fmt: skip
        assert redact_ibans(text) == (text, False), text
        assert redact_national_ids(text) == (text, False), text


@settings(max_examples=150, deadline=None)
@given(iban=ibans(), before=around, end=after)
def test_any_valid_iban_is_masked(iban: str, before: str, end: str) -> None:
    masked, found = redact_ibans(f"{before}{iban}{end}")
    assert found and masked == f"{before}{IBAN_MARKER}{end}"


@settings(max_examples=150, deadline=None)
@given(number=national_ids, before=around, end=after)
def test_any_national_id_is_masked(number: str, before: str, end: str) -> None:
    masked, found = redact_national_ids(f"{before}{number}{end}")
    assert found and masked == f"{before}{ID_MARKER}{end}", number


@settings(max_examples=60, deadline=None)
@given(first=personnummer(), second=cpfs(), third=steuer_ids(), iban=ibans())
def test_several_in_one_text(first: str, second: str, third: str, iban: str) -> None:
    text = f"pnr {first}, cpf {second}, steuer-id {third}; account {iban} end"
    masked, _ = redact_national_ids(redact_ibans(text)[0])
    assert masked == f"pnr {ID_MARKER}, cpf {ID_MARKER}, steuer-id {ID_MARKER}; account {IBAN_MARKER} end"
    assert compact(iban) not in compact(masked)
