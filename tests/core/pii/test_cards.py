"""Card numbers are redacted wherever they appear; ordinary numbers are left alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.pii.cards import MARKER, redact_card_numbers
from tests.people.privacy.strategies import messages_with_card, with_check_digit

cards = st.builds(
    with_check_digit, st.text(alphabet="0123456789", min_size=12, max_size=18).filter(lambda s: s[0] != "0")
)
separators = st.sampled_from(["", " ", "-"])
words = st.text(alphabet=st.characters(categories=["L"], max_codepoint=0x24F), min_size=0, max_size=30)


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


@settings(max_examples=300, deadline=None)
@given(case=messages_with_card())
def test_any_grouping_next_to_anything(case: tuple[str, str]) -> None:
    """Groups of any size, runs of spaces and dashes, other digits or words right next to it."""
    digits, message = case
    redacted, found = redact_card_numbers(message)
    assert found and MARKER in redacted
    assert digits not in "".join(ch for ch in redacted if ch.isdigit())


def test_other_separators_and_scripts() -> None:
    for written in (
        "4242\u00a04242\u00a04242\u00a04242",  # no-break spaces
        "4242 – 4242 – 4242 – 4242",  # en dashes
        "4242\u200b4242\u200b4242\u200b4242",  # zero-width spaces
        "4242\t4242\n4242  4242",
        "４２４２４２４２４２４２４２４２",  # full-width digits
    ):
        assert redact_card_numbers(f"card:{written}.") == (f"card:{MARKER}.", True), written


def test_a_card_after_other_digits_is_covered_whole() -> None:
    redacted, _ = redact_card_numbers("ref 12 4242424242424242 ok")
    assert "4242" not in redacted and redacted.endswith(f"{MARKER} ok")
