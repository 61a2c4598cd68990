"""Load `locales/<locale>/locale.yml` and the texts (`messages.yml` and one file per feature), and
render a text in a locale and tone.

Files are re-read when they change on disk (checked at most once a second), so editing a
text takes effect on the next message: no retraining, no restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from locales.formatting import Formatter

LOCALES_DIR = Path(__file__).resolve().parent
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "sv", "de", "pt-BR")
FALLBACK_LOCALE = "en"
TONES: tuple[str, ...] = ("empathetic", "formal")


def resolve_locale(value: str | None) -> str | None:
    """Map `pt`, `pt_br`, `sv-SE`, `de-AT` … onto a supported locale, or None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    for code in SUPPORTED_LOCALES:
        if tag == code.lower():
            return code
    language = tag.split("-", 1)[0]
    for code in SUPPORTED_LOCALES:
        if code.split("-", 1)[0].lower() == language:
            return code
    return None


@dataclass(frozen=True)
class LocaleConfig:
    code: str
    babel: str
    name: str
    default_timezone: str
    default_tone: str
    date_order: str
    date_example: str


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Loaded:
    configs: dict[str, LocaleConfig]
    messages: dict[str, dict[str, Any]]
    stamp: tuple[tuple[str, float], ...]


class Catalog:
    def __init__(self, root: Path = LOCALES_DIR) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._checked = 0.0
        self._loaded = self._load()

    # -- loading ---------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        return sorted(self.root.glob("*/*.yml"))

    def _stamp(self) -> tuple[tuple[str, float], ...]:
        return tuple((str(p), p.stat().st_mtime) for p in self._files())

    def _load(self) -> _Loaded:
        configs: dict[str, LocaleConfig] = {}
        messages: dict[str, dict[str, Any]] = {}
        stamp = self._stamp()
        for code in SUPPORTED_LOCALES:
            folder = self.root / code
            raw = yaml.safe_load((folder / "locale.yml").read_text(encoding="utf-8")) or {}
            configs[code] = LocaleConfig(
                code=code,
                babel=raw["babel"],
                name=raw["name"],
                default_timezone=raw["default_timezone"],
                default_tone=raw.get("default_tone", TONES[0]),
                date_order=raw.get("date_order", "DMY"),
                date_example=str(raw.get("date_example", "")),
            )
            # messages.yml plus one file per feature (payments.yml, arrangements.yml, …).
            merged: dict[str, Any] = {}
            for path in sorted(folder.glob("*.yml")):
                if path.name == "locale.yml":
                    continue
                part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                clash = set(part) & set(merged)
                if clash:
                    raise ValueError(f"{path}: keys already defined in another file: {sorted(clash)}")
                merged.update(part)
            messages[code] = merged
        return _Loaded(configs=configs, messages=messages, stamp=stamp)

    def _current(self) -> _Loaded:
        now = time.monotonic()
        if now - self._checked >= 1.0:
            with self._lock:
                self._checked = now
                if self._stamp() != self._loaded.stamp:
                    self._loaded = self._load()
        return self._loaded

    # -- lookup ----------------------------------------------------------------------------
    def config(self, locale: str | None) -> LocaleConfig:
        code = resolve_locale(locale) or FALLBACK_LOCALE
        return self._current().configs[code]

    def has(self, key: str, locale: str = FALLBACK_LOCALE) -> bool:
        return key in self._current().messages.get(self.config(locale).code, {})

    def keys(self, locale: str) -> set[str]:
        return set(self._current().messages[self.config(locale).code])

    def entry(self, key: str, locale: str | None) -> Any:
        loaded = self._current()
        code = self.config(locale).code
        for candidate in (code, FALLBACK_LOCALE):
            if key in loaded.messages[candidate]:
                return loaded.messages[candidate][key]
        raise KeyError(key)

    def text(self, key: str, locale: str | None, tone: str | None = None) -> str:
        entry = self.entry(key, locale)
        if isinstance(entry, str):
            return entry
        tone = tone if tone in TONES else self.config(locale).default_tone
        return str(entry.get(tone) or entry[TONES[0]])

    def render(
        self, key: str, locale: str | None, tone: str | None = None, arguments: dict[str, Any] | None = None
    ) -> Rendered:
        """The text for `key`, placeholders filled and formatted for the locale."""
        config = self.config(locale)
        entry = self.entry(key, config.code)
        template = self.text(key, config.code, tone)
        formatter = Formatter(config=config, text=lambda k: self.text(k, config.code, tone))
        text = formatter.fill(template, arguments or {})
        buttons = [
            {"title": b["title"], "payload": b["payload"]}
            for b in (entry.get("buttons", []) if isinstance(entry, dict) else [])
        ]
        # Dynamic buttons: `choices` = [{"payload", "label", ...label arguments}], e.g. one per debt.
        for choice in (arguments or {}).get("choices") or []:
            label = self.render(
                str(choice["label"]),
                config.code,
                tone,
                {k: v for k, v in choice.items() if k not in ("label", "payload")},
            )
            buttons.append({"title": label.text, "payload": str(choice["payload"])})
        return Rendered(text=text, buttons=buttons)
