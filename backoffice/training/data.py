"""The training data on disk: the YAML of record, the domain, the held-out set, and the
workspace a retrain runs in. Pure file work (no database); service.py replays the admin's
changes on top of what this module reads."""

from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.config import ROOT
from engine.language.evaluation import read_rows
from locales import SUPPORTED_LOCALES

BOT_DIR = ROOT / "bot"
HELDOUT = BOT_DIR / "nlu" / "eval" / "heldout.tsv"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def normalise(text: str) -> str:
    """The comparison key for duplicates and held-out leaks (as tests/test_nlu_data.py): entity
    markup dropped, case and diacritics folded, punctuation and spacing ignored."""
    text = _ANNOTATION.sub(r"\1", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


def annotated_entities(text: str) -> set[str]:
    """Entity names in Rasa markup: `[£20](amount)` -> {"amount"}; `{"entity": ...}` forms too."""
    names = set()
    for _, label in _ANNOTATION.findall(text):
        label = label.strip()
        match = re.search(r'"entity"\s*:\s*"([^"]+)"', label) if label.startswith("{") else None
        names.add(match.group(1) if match else label.split(":", 1)[0].strip())
    return names


@lru_cache(maxsize=64)
def _yaml(path: Path, _mtime_ns: int) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


def load_yaml(path: Path) -> Any:
    """Parsed once per file version (the page reads the same files on every request)."""
    return _yaml(path, path.stat().st_mtime_ns)


def split_examples(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def repository_examples(locale: str, bot_dir: Path = BOT_DIR) -> dict[str, list[str]]:
    """{intent: [example, ...]} of bot/nlu/data/<locale>.yml, in file order."""
    path = bot_dir / "nlu" / "data" / f"{locale}.yml"
    if not path.is_file():
        return {}
    examples: dict[str, list[str]] = {}
    for block in load_yaml(path).get("nlu") or []:
        if "intent" in block:
            examples.setdefault(str(block["intent"]), []).extend(split_examples(str(block.get("examples") or "")))
    return examples


@dataclass(frozen=True)
class Domain:
    intents: frozenset[str]
    entities: frozenset[str]


def _names(items: list[Any] | None) -> set[str]:
    return {str(next(iter(item))) if isinstance(item, dict) else str(item) for item in items or []}


def domain(bot_dir: Path = BOT_DIR) -> Domain:
    intents: set[str] = set()
    entities: set[str] = set()
    for path in sorted((bot_dir / "domain").glob("*.yml")):
        content = load_yaml(path) or {}
        intents |= _names(content.get("intents"))
        entities |= _names(content.get("entities"))
    return Domain(frozenset(intents), frozenset(entities))


def trainable_intents(bot_dir: Path = BOT_DIR) -> list[str]:
    """Intents that are in the domain and have examples in some locale's NLU data. Payload-only
    intents (buttons such as /request_callback) are left out: examples would change them."""
    in_data = {intent for locale in SUPPORTED_LOCALES for intent in repository_examples(locale, bot_dir)}
    return sorted(in_data & domain(bot_dir).intents)


@lru_cache(maxsize=4)
def _heldout(path: Path, _mtime_ns: int) -> frozenset[str]:
    return frozenset(normalise(row["text"]) for row in read_rows(path))


def heldout_keys(path: Path = HELDOUT) -> frozenset[str]:
    """Normalised texts of the held-out evaluation set (every locale: one multilingual model)."""
    return _heldout(path, path.stat().st_mtime_ns) if path.is_file() else frozenset()


@dataclass
class Workspace:
    """Where one retrain runs: a copy of bot/ config, domain and stories plus merged NLU files."""

    root: Path
    config: Path = field(init=False)
    domain: Path = field(init=False)
    data: Path = field(init=False)
    nlu: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config = self.root / "config.yml"
        self.domain = self.root / "domain"
        self.data = self.root / "data"
        self.nlu = self.root / "nlu"


def render_nlu(examples: dict[str, list[str]]) -> str:
    """Rasa 3 NLU YAML; every example on one line of a literal block (no escaping needed)."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in examples.items():
        if not texts:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def write_workspace(root: Path, examples: dict[str, dict[str, list[str]]], bot_dir: Path = BOT_DIR) -> Workspace:
    """Copy config, domain and dialogue data; write each locale's effective examples; copy the
    shared NLU files (regexes, lookups) as they are."""
    workspace = Workspace(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(bot_dir / "config.yml", workspace.config)
    shutil.copytree(bot_dir / "domain", workspace.domain)
    shutil.copytree(bot_dir / "data", workspace.data)
    workspace.nlu.mkdir()
    for path in sorted((bot_dir / "nlu" / "data").glob("*.yml")):
        if path.stem not in SUPPORTED_LOCALES:
            shutil.copy2(path, workspace.nlu / path.name)
    for locale, by_intent in examples.items():
        (workspace.nlu / f"{locale}.yml").write_text(render_nlu(by_intent), encoding="utf-8")
    return workspace


def config_components(config: Path) -> int:
    """How many pipeline components and policies a config lists (progress denominator)."""
    content = load_yaml(config) or {}
    return len(content.get("pipeline") or []) + len(content.get("policies") or [])


def point_active(models_dir: Path, model: Path) -> Path:
    """`<models_dir>/active.tar.gz` -> the active model, replaced atomically: Rasa started with
    `--model "$(readlink -e var/models/active.tar.gz)"` loads it after a restart."""
    link = models_dir / "active.tar.gz"
    models_dir.mkdir(parents=True, exist_ok=True)
    temporary = models_dir / f".active-{model.stem}.tmp"
    temporary.unlink(missing_ok=True)
    target = model.name if model.parent.resolve() == models_dir.resolve() else str(model.resolve())
    temporary.symlink_to(target)
    temporary.replace(link)
    return link
