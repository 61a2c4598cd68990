"""The NLU data is what the issue asks for, and the held-out set really is held out."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from engine.language.evaluation import read_rows

ROOT = Path(__file__).resolve().parent.parent
INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "check_balance", "pay_now",
    "request_payment_plan", "promise_to_pay", "dispute_debt", "report_hardship", "request_human",
    "opt_out", "change_language", "inform", "out_of_scope",
}  # fmt: skip
LOCALES = ("en", "sv", "de", "pt-BR")


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


def training(locale: str) -> dict[str, list[str]]:
    data = yaml.safe_load((ROOT / "bot" / "nlu" / "data" / f"{locale}.yml").read_text(encoding="utf-8"))
    return {
        block["intent"]: [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]
        for block in data["nlu"]
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_every_intent_has_at_least_20_examples(locale: str) -> None:
    examples = training(locale)
    assert set(examples) == INTENTS
    assert min(len(v) for v in examples.values()) >= 20


@pytest.mark.parametrize("locale", LOCALES)
def test_entities_are_annotated(locale: str) -> None:
    text = "\n".join(line for lines in training(locale).values() for line in lines)
    for entity in ("reference", "date", "amount", "language"):
        assert f"]({entity})" in text, entity


def test_heldout_set_shares_no_message_with_training() -> None:
    seen = {normalise(line) for locale in LOCALES for lines in training(locale).values() for line in lines}
    rows = read_rows(ROOT / "bot" / "nlu" / "eval" / "heldout.tsv")
    assert {r["intent"] for r in rows} == INTENTS and {r["locale"] for r in rows} == set(LOCALES)
    leaked = [r["text"] for r in rows if normalise(r["text"]) in seen]
    assert leaked == []
