"""The file side of retraining: reading the YAML of record, replaying admin changes, the workspace
Rasa trains in, progress parsing, the comparison, and the pointer a restarted Rasa loads."""

from __future__ import annotations

from pathlib import Path

import yaml

from backoffice.training import data
from backoffice.training.compare import compare, summary
from backoffice.training.jobs import LogTail, TrainProgress
from backoffice.training.models import ChangeOp, ExampleChange
from backoffice.training.service import replay
from locales import SUPPORTED_LOCALES
from tests.test_nlu_data import normalise as leak_key


def test_normalise_matches_the_leak_check_of_the_data_tests() -> None:
    for text in ("Hur mycket är [skulden](x)?", "  Não consigo PAGAR!! ", "i can pay [£150](amount) now", "Möchte"):
        assert data.normalise(text) == leak_key(text)
    assert data.normalise("Nao consigo pagar") == data.normalise("Não   consigo, pagar!")


def test_annotated_entities() -> None:
    assert data.annotated_entities("pay [£20](amount) on [1 May](date)") == {"amount", "date"}
    assert data.annotated_entities('ref [AB-123456]{"entity": "reference"} and [x](reference)') == {"reference"}
    assert data.annotated_entities("no markup [here]") == set()


def test_repository_examples_and_intents() -> None:
    en = data.repository_examples("en")
    assert "hello" in en["greet"] and "i can pay [£150](amount) right now" in en["pay_now"]
    intents = data.trainable_intents()
    assert "greet" in intents and "out_of_scope" in intents
    # Button-only intents are in the domain but not offered for examples.
    assert "request_callback" in data.domain().intents and "request_callback" not in intents
    assert {"amount", "reference", "date", "language"} <= data.domain().entities
    assert data.repository_examples("xx") == {}


def test_heldout_keys_are_normalised() -> None:
    keys = data.heldout_keys()
    assert data.normalise("hello there") in keys and len(keys) > 600


def change(op: ChangeOp, intent: str, text: str, original: str | None = None) -> ExampleChange:
    return ExampleChange(locale="en", intent=intent, op=op, text=text, original=original)


def test_replay_applies_changes_in_order_and_skips_stale_ones() -> None:
    base = {"greet": ["hi", "hello"], "goodbye": ["bye"]}
    changes = [
        change(ChangeOp.ADD, "greet", "good day"),
        change(ChangeOp.EDIT, "greet", "hello there you", original="hello"),
        change(ChangeOp.DELETE, "goodbye", "bye"),
        change(ChangeOp.ADD, "goodbye", "Bye!"),  # same key as the deleted one: allowed again
        change(ChangeOp.DELETE, "greet", "gone from git"),  # target no longer in the YAML
        change(ChangeOp.ADD, "greet", "HI"),  # now a duplicate of "hi": skipped
    ]
    result = replay(base, changes)
    assert [e.text for e in result["greet"]] == ["hi", "hello there you", "good day"]
    assert [e.text for e in result["goodbye"]] == ["Bye!"]
    assert result["greet"][0].change is None and result["greet"][1].change is changes[1]


def test_workspace_holds_config_domain_stories_and_the_merged_nlu(tmp_path: Path) -> None:
    examples = {
        locale: {"greet": [f"hello {locale}", "hey [£5](amount): ok #1 - 'quoted'"], "goodbye": ["bye"], "thank": []}
        for locale in SUPPORTED_LOCALES
    }
    workspace = data.write_workspace(tmp_path / "ws", examples)
    assert workspace.config.read_text() == (data.BOT_DIR / "config.yml").read_text()
    assert sorted(p.name for p in workspace.domain.glob("*.yml")) == sorted(
        p.name for p in (data.BOT_DIR / "domain").glob("*.yml")
    )
    assert sorted(p.name for p in workspace.data.glob("*.yml")) == sorted(
        p.name for p in (data.BOT_DIR / "data").glob("*.yml")
    )
    assert (workspace.nlu / "entities.yml").read_text() == (data.BOT_DIR / "nlu" / "data" / "entities.yml").read_text()
    for locale in SUPPORTED_LOCALES:
        parsed = yaml.safe_load((workspace.nlu / f"{locale}.yml").read_text(encoding="utf-8"))
        blocks = {b["intent"]: data.split_examples(b["examples"]) for b in parsed["nlu"]}
        assert blocks == {"greet": [f"hello {locale}", "hey [£5](amount): ok #1 - 'quoted'"], "goodbye": ["bye"]}
    assert data.config_components(workspace.config) == 6


def test_active_pointer_is_replaced_atomically(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    first, second = models / "nlu-a.tar.gz", models / "nlu-b.tar.gz"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    link = data.point_active(models, first)
    assert link.read_bytes() == b"a" and link.readlink() == Path("nlu-a.tar.gz")  # relative: the folder can move
    data.point_active(models, second)
    assert link.resolve() == second.resolve()
    outside = tmp_path / "elsewhere.tar.gz"
    outside.write_bytes(b"c")
    assert data.point_active(models, outside).read_bytes() == b"c"
    assert sorted(p.name for p in models.iterdir()) == ["active.tar.gz", "nlu-a.tar.gz", "nlu-b.tar.gz"]


def test_progress_follows_rasas_log_lines() -> None:
    progress = TrainProgress(components=4)
    assert progress.feed("2026 INFO rasa.cli.train - Started validating domain and training data...") == 15
    values = [progress.feed(f"rasa.engine.training.hooks - Finished training component 'C{i}'.") for i in range(5)]
    assert values == [32, 45, 57, 70, 70]
    assert progress.feed("Your Rasa model is trained and saved at 'x.tar.gz'.") == 70
    assert progress.feed("anything else") == 70


def test_log_tail_drops_colours_and_progress_redraws() -> None:
    tail = LogTail(lines=3)
    for line in (
        "\x1b[93mwarning\x1b[0m",
        "Processed rules:   0%|   | 0/77",
        "",
        "Processed rules: 100%|███| 77/77",
        "a",
        "a",
        "b",
    ):
        tail.feed(line)
    assert tail.text() == "Processed rules: 100%|███| 77/77\na\nb"


def report(f1: dict[str, float], confusions: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {
        "n": 10,
        "intent_accuracy": 0.9,
        "intent_macro_f1": sum(f1.values()) / len(f1),
        "intents": {k: {"precision": v, "recall": v, "f1": v, "support": 5} for k, v in f1.items()},
        "confusions": confusions or [],
    }


def test_comparison_lists_regressions_first() -> None:
    new = {
        "en": report(
            {"greet": 0.8, "goodbye": 1.0, "thank": 0.9}, [{"gold": "greet", "predicted": "thank", "count": 1}]
        )
    }
    old = {"en": report({"greet": 0.9, "goodbye": 0.5})}
    result = compare(new, old)["en"]
    assert [(r["intent"], r["delta_f1"]) for r in result["intents"]] == [
        ("greet", -0.1),
        ("goodbye", 0.5),
        ("thank", None),
    ]
    assert result["current"]["macro_f1"] == 0.7 and result["candidate"]["n"] == 10
    assert result["confusions"]["candidate"] == [{"gold": "greet", "predicted": "thank", "count": 1}]
    assert compare(new, None)["en"]["current"] is None
    assert summary(None) == {} and summary(new)["en"]["accuracy"] == 0.9
