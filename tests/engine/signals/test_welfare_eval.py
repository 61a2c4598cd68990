"""The held-out welfare sets (signals/eval/<locale>.yml): every at-risk message, written without
the obvious keywords, is flagged with its categories (self-harm ones as self-harm, so they get the
crisis line at once); no ordinary collection message is flagged at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.signals.lexicon import SELF_HARM
from engine.signals.service import SignalScorer
from locales.catalog import SUPPORTED_LOCALES

EVAL_DIR = Path(__file__).resolve().parents[3] / "engine" / "signals" / "eval"
MIN_AT_RISK = 12
NLU_DIR = Path(__file__).resolve().parents[3] / "bot" / "nlu" / "data"
ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def load(locale: str) -> dict[str, Any]:
    with (EVAL_DIR / f"{locale}.yml").open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


AT_RISK = [(loc, item["text"], tuple(item["categories"])) for loc in SUPPORTED_LOCALES for item in load(loc)["at_risk"]]
ORDINARY = [(loc, text) for loc in SUPPORTED_LOCALES for text in load(loc)["ordinary"]]
scorer = SignalScorer()  # lexicon-only, as in production here (no model weights)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_each_locale_has_enough_held_out_lines(locale: str) -> None:
    data = load(locale)
    assert len(data["at_risk"]) >= MIN_AT_RISK
    assert sum(SELF_HARM in item["categories"] for item in data["at_risk"]) >= 6
    assert len(data["ordinary"]) >= 12


@pytest.mark.parametrize(("locale", "text", "categories"), AT_RISK)
def test_at_risk_message_is_flagged_with_its_category(locale: str, text: str, categories: tuple[str, ...]) -> None:
    assessment = scorer.assess(text, locale)
    assert assessment.vulnerable, f"not flagged: {text!r}"
    assert set(categories) <= set(assessment.cues), f"{text!r}: {assessment.cues}"
    assert (SELF_HARM in assessment.cues) == (SELF_HARM in categories), f"{text!r}: {assessment.cues}"
    assert assessment.immediate_human == (SELF_HARM in categories)


@pytest.mark.parametrize(("locale", "text"), ORDINARY)
def test_ordinary_message_is_not_flagged(locale: str, text: str) -> None:
    assessment = scorer.assess(text, locale)
    assert not assessment.cues and not assessment.vulnerable, f"{text!r}: {assessment.cues}"


@pytest.mark.parametrize(("locale", "text", "categories"), [a for a in AT_RISK if SELF_HARM in a[2]])
def test_self_harm_is_caught_whatever_language_the_conversation_is_in(
    locale: str, text: str, categories: tuple[str, ...]
) -> None:
    """A person who switches language mid-conversation: self-harm cues of every locale apply."""
    other = next(code for code in SUPPORTED_LOCALES if code != locale)
    assert SELF_HARM in scorer.assess(text, other).cues


def nlu_examples(locale: str) -> list[str]:
    """Every training example of the Rasa model in `locale` (entity markup removed)."""
    with (NLU_DIR / f"{locale}.yml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    found = []
    for item in data.get("nlu", []):
        for line in str(item.get("examples", "")).splitlines() if item.get("intent") else ():
            example = ENTITY.sub(r"\1", line.strip().removeprefix("- ").strip())
            if example:
                found.append(example)
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_everyday_message_of_the_nlu_data_reads_as_self_harm(locale: str) -> None:
    """A wider false-positive guard: thousands of ordinary debtor messages (greetings, payments,
    disputes, opt-outs, hardship) never get the crisis line."""
    examples = nlu_examples(locale)
    assert len(examples) > 300
    flagged = [text for text in examples if SELF_HARM in scorer.assess(text, locale).cues]
    assert flagged == []
