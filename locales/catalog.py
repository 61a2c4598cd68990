"""Load `locales/<locale>/locale.yml` and the texts (`messages.yml` and one file per feature), and
render a text in a locale and tone.

Files are re-read when they change on disk (checked at most once a second), so editing a
text takes effect on the next message: no retraining, no restart.

Admins can change texts and tone defaults live from the admin page too: those changes live in
the database (tone/) and reach the catalog as an optional `OverrideSource`. Without one (tests,
tools, `Catalog()`), the files alone decide.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import yaml

from locales.formatting import Formatter
from locales.reply import Button, Reply, buttons_from

LOCALES_DIR = Path(__file__).resolve().parent
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "sv", "de", "pt-BR")
FALLBACK_LOCALE = "en"
TONES: tuple[str, ...] = ("empathetic", "formal")
# The one "tone" of a text written as a plain string (no tone variants).
PLAIN = "plain"
log = logging.getLogger(__name__)


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
class TextOverride:
    """An admin's wording of one variant (locale, key, tone); buttons keep the file's payloads."""

    text: str
    buttons: tuple[tuple[str, str], ...] | None = None  # (title, payload); None: the file's titles


_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Overrides:
    """Everything admins changed, as one immutable snapshot (swapped whole on refresh)."""

    stamp: tuple[int, ...] = ()
    texts: Mapping[tuple[str, str, str], TextOverride] = field(default_factory=lambda: _EMPTY)  # (locale, key, tone)
    locale_tones: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # locale -> tone
    segment_tones: Mapping[tuple[str, str], str] = field(default_factory=lambda: _EMPTY)  # (locale, segment) -> tone


NO_OVERRIDES = Overrides()


class OverrideSource(Protocol):
    """Where overrides come from (tone.overrides.ToneOverrides reads them from the database)."""

    def current(self) -> Overrides:
        """The latest snapshot, without waiting (may start a refresh in the background)."""
        ...

    async def refresh(self, *, force: bool = False) -> Overrides:
        """Re-read when due (cheap: a version check at most once per interval)."""
        ...


@dataclass
class _Loaded:
    configs: dict[str, LocaleConfig]
    messages: dict[str, dict[str, Any]]
    stamp: tuple[tuple[str, float], ...]


class Catalog:
    def __init__(self, root: Path = LOCALES_DIR, overrides: OverrideSource | None = None) -> None:
        self.root = root
        self.overrides = overrides
        self._lock = threading.Lock()
        self._checked = 0.0
        self._loaded = self._load()

    def attach(self, overrides: OverrideSource) -> None:
        """Layer admins' changes (from the database) over the files."""
        self.overrides = overrides

    async def refresh(self, *, force: bool = False) -> None:
        """Pick up admins' latest changes before rendering (no-op without an override source)."""
        if self.overrides is not None:
            await self.overrides.refresh(force=force)

    def _overrides(self) -> Overrides:
        return self.overrides.current() if self.overrides is not None else NO_OVERRIDES

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
            # messages.yml plus one file per feature (payments.yml, arrangements.yml, …); not the
            # page labels (pages/*.yml, a folder: nested UI labels without tones, locales/pages.py).
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

    def variants(self, key: str, locale: str | None) -> tuple[str, ...]:
        """The tones a text is written in: both tones, or PLAIN for a single wording."""
        return (PLAIN,) if isinstance(self.entry(key, locale), str) else TONES

    def default_tone(self, locale: str | None) -> str:
        """The admin's choice for the locale, else `default_tone` in its locale.yml."""
        config = self.config(locale)
        return self._overrides().locale_tones.get(config.code) or config.default_tone

    def segment_tones(self, locale: str | None) -> dict[str, str]:
        code = self.config(locale).code
        return {segment: tone for (loc, segment), tone in self._overrides().segment_tones.items() if loc == code}

    def segment_tone(self, locale: str | None, segments: Sequence[str]) -> str | None:
        """The tone of the first of `segments` (most important first) that has one for the locale."""
        tones = self.segment_tones(locale)
        return next((tones[s] for s in segments if s in tones), None)

    def _variant(self, entry: Any, locale: str | None, tone: str | None) -> str:
        if isinstance(entry, str):
            return PLAIN
        return tone if tone in TONES else self.default_tone(locale)

    def default_text(self, key: str, locale: str | None, tone: str | None = None) -> str:
        """The file's wording (what a reset goes back to)."""
        entry = self.entry(key, locale)
        if isinstance(entry, str):
            return entry
        return str(entry.get(self._variant(entry, locale, tone)) or entry[TONES[0]])

    def default_buttons(self, key: str, locale: str | None) -> list[dict[str, str]]:
        entry = self.entry(key, locale)
        buttons = entry.get("buttons", []) if isinstance(entry, dict) else []
        return [{"title": str(b["title"]), "payload": str(b["payload"])} for b in buttons]

    def override(self, key: str, locale: str | None, tone: str | None = None) -> TextOverride | None:
        """The admin's wording of this variant, if any."""
        code = self.config(locale).code
        return self._overrides().texts.get((code, key, self._variant(self.entry(key, code), code, tone)))

    def text(self, key: str, locale: str | None, tone: str | None = None) -> str:
        found = self.override(key, locale, tone)
        return found.text if found is not None else self.default_text(key, locale, tone)

    def render(
        self,
        key: str,
        locale: str | None,
        tone: str | None = None,
        arguments: dict[str, Any] | None = None,
        *,
        draft: TextOverride | None = None,
    ) -> Reply:
        """The text for `key`, placeholders filled and formatted for the locale. `draft` replaces
        this key's wording (a preview of an unsaved edit)."""
        config = self.config(locale)
        chosen = draft or self.override(key, config.code, tone)
        formatter = Formatter(config=config, text=lambda k: self.text(k, config.code, tone))
        try:
            text = formatter.fill(chosen.text if chosen else self.default_text(key, config.code, tone), arguments or {})
        except (ValueError, IndexError, AttributeError) as exc:
            if chosen is None or draft is not None:
                raise
            # A stored wording the formatter cannot read (validated on save, so only after a file
            # change): the file's text rather than no answer.
            log.error("catalog.override_unreadable", extra={"key": key, "locale": config.code, "error": str(exc)})
            chosen = None
            text = formatter.fill(self.default_text(key, config.code, tone), arguments or {})
        if chosen is not None and chosen.buttons is not None:
            buttons = [Button(title=title, payload=payload) for title, payload in chosen.buttons]
        else:
            buttons = list(buttons_from(self.default_buttons(key, config.code)))
        # Dynamic buttons: `choices` = [{"payload", "label", ...label arguments}], e.g. one per debt.
        for choice in (arguments or {}).get("choices") or []:
            label = self.render(
                str(choice["label"]),
                config.code,
                tone,
                {k: v for k, v in choice.items() if k not in ("label", "payload")},
            )
            buttons.append(Button(title=label.text, payload=str(choice["payload"])))
        return Reply(text=text, buttons=tuple(buttons))
