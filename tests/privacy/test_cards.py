"""Card numbers are redacted wherever they appear; ordinary numbers are left alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.cards import MARKER, luhn_valid, redact_card_numbers


def with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError


cards = st.builds(
    with_check_digit, st.text(alphabet="0123456789", min_size=12, max_size=18).filter(lambda s: s[0] != "0")
)
separators = st.sampled_from(["", " ", "-"])
words = st.text(alphabet=st.characters(whitelist_categories=("L",), max_codepoint=0x24F), min_size=0, max_size=30)


@settings(max_examples=300)
@given(card=cards, sep=separators, before=words, after=words, group=st.integers(min_value=3, max_value=6))
def test_any_card_anywhere_is_redacted(card: str, sep: str, before: str, after: str, group: int) -> None:
    written = sep.join(card[i : i + group] for i in range(0, len(card), group))
    text = f"{before} {written} {after}"
    redacted, found = redact_card_numbers(text)
    assert found and MARKER in redacted
    assert card not in redacted.replace(" ", "").replace("-", "")


def test_known_test_cards() -> None:
    for number in ("4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005", "4000056655665556"):
        assert redact_card_numbers(f"my card {number} thanks")[0] == f"my card {MARKER} thanks"


def test_ordinary_numbers_stay() -> None:
    for text in ("SE-100234", "12.04.1985", "+46701234567", "I can pay 500 kr on the 25th", "4242 4242"):
        assert redact_card_numbers(text) == (text, False)
