"""Conversation context on top of the per-message detection."""

from __future__ import annotations

import pytest

from engine.language.detector import Detection
from engine.language.service import choose


def det(locale: str | None, confidence: float) -> Detection:
    return Detection(locale=locale, confidence=confidence, scores={})


@pytest.mark.parametrize("reply", ["ja", "ok", "oi", "nein", "sim", "yes", "nej tack"])
def test_short_replies_never_flip_the_language(reply: str) -> None:
    # Even when the detector is sure the word belongs to another language.
    for other in ("en", "sv", "de", "pt-BR"):
        chosen = choose(detection=det(other, 1.0), text=reply, current="sv", locked=False, prior=None, default="en")
        assert chosen.locale == "sv" and not chosen.switched


def test_a_confident_sentence_switches() -> None:
    chosen = choose(
        detection=det("de", 0.99),
        text="ich möchte wissen wie viel ich zahlen muss",
        current="sv",
        locked=False,
        prior=None,
        default="en",
    )
    assert chosen.locale == "de" and chosen.switched


def test_an_unsure_sentence_does_not_switch() -> None:
    chosen = choose(
        detection=det("de", 0.6), text="hallo wie geht es", current="en", locked=False, prior=None, default="en"
    )
    assert chosen.locale == "en"


def test_an_explicit_choice_is_kept() -> None:
    chosen = choose(
        detection=det("pt-BR", 1.0),
        text="quanto eu devo para vocês agora",
        current="en",
        locked=True,
        prior=None,
        default="en",
    )
    assert chosen.locale == "en"


def test_first_message_uses_detection_then_hint_then_default() -> None:
    assert (
        choose(detection=det("sv", 0.9), text="hej", current=None, locked=False, prior="de", default="en").locale
        == "sv"
    )
    assert (
        choose(detection=det("sv", 0.4), text="hm", current=None, locked=False, prior="de", default="en").locale == "de"
    )
    assert (
        choose(detection=det(None, 0.0), text="👍", current=None, locked=False, prior=None, default="en").locale == "en"
    )


def test_button_payloads_carry_no_language() -> None:
    chosen = choose(
        detection=det("en", 1.0), text="/check_balance", current="pt-BR", locked=False, prior=None, default="en"
    )
    assert chosen.locale == "pt-BR"
