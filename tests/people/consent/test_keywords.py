"""Opt-out keywords in every listed word and locale, as people type them."""

from __future__ import annotations

import pytest

from people.consent.keywords import is_start, is_stop

STOP = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",  # carriers'
        "STOPP", "AVSLUTA",  # sv
        "STOPP", "ABMELDEN",  # de
        "PARAR", "SAIR", "CANCELAR"]  # fmt: skip  # pt


@pytest.mark.parametrize("word", STOP)
@pytest.mark.parametrize("written", [str.upper, str.lower, str.title, lambda w: f" {w}! ", lambda w: f"{w}."])
def test_every_stop_word(word: str, written) -> None:  # type: ignore[no-untyped-def]
    assert is_stop(written(word)) and not is_start(written(word))


@pytest.mark.parametrize("word", ["START", "start", "UNSTOP", "Unstop"])
def test_start_words(word: str) -> None:
    assert is_start(word) and not is_stop(word)


@pytest.mark.parametrize(
    "text", ["stop calling me at work please", "I can't stop worrying", "the end of the month", "cancel my plan?"]
)
def test_sentences_are_for_the_opt_out_intent_not_keywords(text: str) -> None:
    assert not is_stop(text)
