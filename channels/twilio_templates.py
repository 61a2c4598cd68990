"""WhatsApp's approved templates (config/channels.yml), sent outside the 24-hour window, and the
one-line preview of a message that fills a template's variable."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "channels.yml"
PREVIEW_LENGTH = 100
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
PLACEHOLDER_SID = re.compile(r"HX0{24}")  # the made-up SIDs shipped in config/channels.yml


def preview(text: str, length: int = PREVIEW_LENGTH) -> str:
    """A one-line preview for a template variable: whitespace collapsed (WhatsApp rejects newlines,
    tabs and runs of spaces in variables), cut at a word with "…" if longer than `length`."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    head = flat[: length - 1]
    if " " in head and not flat[length - 1].isspace():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:.-") + "…"


@dataclass(frozen=True)
class WhatsAppTemplates:
    """Approved WhatsApp templates: locale -> template name -> Content SID (HX...)."""

    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default_locale: str | None = None

    @classmethod
    def load(cls, path: Path = CONFIG) -> WhatsAppTemplates:
        """Read `whatsapp.templates` and `whatsapp.default_locale` from config/channels.yml."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        section = raw.get("whatsapp") or {}
        return cls.from_mapping(section.get("templates") or {}, default_locale=section.get("default_locale"))

    @classmethod
    def from_mapping(cls, templates: Mapping[str, Any], default_locale: str | None = None) -> WhatsAppTemplates:
        parsed: dict[str, dict[str, str]] = {}
        placeholders = []
        for locale, names in templates.items():
            if not isinstance(names, Mapping):
                raise ValueError(f"whatsapp.templates.{locale} must map template names to Content SIDs")
            parsed[str(locale)] = {}
            for name, sid in names.items():
                if not isinstance(sid, str) or not CONTENT_SID.fullmatch(sid):
                    raise ValueError(f"whatsapp.templates.{locale}.{name}: {sid!r} is not a Content SID (HX + 32 hex)")
                if PLACEHOLDER_SID.match(sid):
                    placeholders.append(f"{locale}.{name}")
                parsed[str(locale)][str(name)] = sid
        if default_locale is not None and default_locale not in parsed:
            raise ValueError(f"whatsapp.default_locale {default_locale!r} has no templates")
        if placeholders:
            log.warning(
                "WhatsApp templates %s are placeholders: replace them in config/channels.yml with the "
                "creditor's approved Content SIDs, or Twilio will reject them",
                ", ".join(placeholders),
            )
        return cls(templates=parsed, default_locale=default_locale)

    def content_sid(self, locale: str, name: str) -> str | None:
        """The template's SID for `locale`: exact match, then case-insensitive, then the same
        language (pt-PT -> pt-BR), then the default locale. None if there is none."""
        for candidate in self._candidates(locale):
            sid = self.templates.get(candidate, {}).get(name)
            if sid:
                return sid
        return None

    def _candidates(self, locale: str) -> list[str]:
        wanted = locale.replace("_", "-").lower()
        language = wanted.split("-")[0]
        keys = list(self.templates)
        ordered = [k for k in keys if k == locale]
        ordered += [k for k in keys if k.lower() == wanted]
        ordered += [k for k in keys if k.lower() == language]
        ordered += [k for k in keys if k.lower().split("-")[0] == language]
        if self.default_locale:
            ordered.append(self.default_locale)
        return list(dict.fromkeys(ordered))
