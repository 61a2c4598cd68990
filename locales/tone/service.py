"""Versioned text overrides and tone defaults, validated against the locale files.

Nothing is ever updated or deleted: a save, a reset and a rollback each append a version, and the
newest version per variant applies. The catalog reads the applying versions as one snapshot
(`load`), re-read when `stamp` changes (see overrides.py).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import RequestRefused
from locales import SUPPORTED_LOCALES, TONES, Catalog, Overrides, TextOverride
from locales.tone.models import TextVersion, ToneDefaultVersion, VersionAction

MAX_TEXT_CHARS = 1000
MAX_BUTTON_CHARS = 64
_ALLOWED_CONTROLS = {"\n", "\t"}
SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class ToneError(RequestRefused):
    """A refused change: `code` for the API, `status` its HTTP status, `info` the specifics."""

    def __init__(self, code: str, status: int, **info: Any) -> None:
        super().__init__(code, status)
        self.info = info

    @property
    def detail(self) -> str | dict[str, Any]:
        return {"code": self.code, **self.info} if self.info else self.code


def check_key(catalog: Catalog, locale: str, key: str) -> None:
    """404 unless the locale and the key in it exist (locale codes exactly as in locales/)."""
    if locale not in SUPPORTED_LOCALES:
        raise ToneError("unknown_locale", 404)
    if key not in catalog.keys(locale):
        raise ToneError("unknown_key", 404)


def check_variant(catalog: Catalog, locale: str, key: str, tone: str) -> None:
    """404 unless the locale, the key in it and the tone of that key exist."""
    check_key(catalog, locale, key)
    if tone not in catalog.variants(key, locale):
        raise ToneError("unknown_tone", 404, tones=list(catalog.variants(key, locale)))


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a text; ValueError for anything the formatter could not fill
    the simple way (unbalanced braces, `{}`, `{0}`, `{x.y}`, `{x!r}`, `{x:>5}`)."""
    found: set[str] = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}}} is not a plain placeholder")
        found.add(name)
    return found


def validate(
    catalog: Catalog, *, locale: str, key: str, tone: str, text: str, buttons: Sequence[str] | None = None
) -> TextOverride:
    """An admin's wording, refused (422, with the specifics) unless it keeps exactly the file's
    placeholders and button payloads."""
    check_variant(catalog, locale, key, tone)
    text = text.strip()
    if not text:
        raise ToneError("empty_text", 422)
    if len(text) > MAX_TEXT_CHARS:
        raise ToneError("too_long", 422, max=MAX_TEXT_CHARS, length=len(text))
    if any(ch < " " and ch not in _ALLOWED_CONTROLS for ch in text):
        raise ToneError("control_characters", 422)
    try:
        used = placeholders(text)
    except ValueError as exc:
        raise ToneError("malformed_placeholder", 422, error=str(exc)) from exc
    expected = placeholders(catalog.default_text(key, locale, tone))
    if used != expected:
        raise ToneError(
            "placeholders",
            422,
            missing=sorted(expected - used),
            unknown=sorted(used - expected),
            expected=sorted(expected),
        )
    return TextOverride(text=text, buttons=_buttons(catalog, locale, key, buttons))


def _buttons(
    catalog: Catalog, locale: str, key: str, titles: Sequence[str] | None
) -> tuple[tuple[str, str], ...] | None:
    if titles is None:
        return None
    defaults = catalog.default_buttons(key, locale)
    if len(titles) != len(defaults):
        raise ToneError("buttons", 422, expected=len(defaults), given=len(titles))
    cleaned = [title.strip() for title in titles]
    for title in cleaned:
        if not title or len(title) > MAX_BUTTON_CHARS or any(ch < " " for ch in title):
            raise ToneError("button_title", 422, max=MAX_BUTTON_CHARS)
    if not defaults:
        return None
    return tuple((title, b["payload"]) for title, b in zip(cleaned, defaults, strict=True))


# -- texts ---------------------------------------------------------------------------------
async def save_text(
    *,
    session: AsyncSession,
    catalog: Catalog,
    locale: str,
    key: str,
    tone: str,
    text: str,
    buttons: Sequence[str] | None = None,
    author_id: int | None,
) -> TextVersion:
    wording = validate(catalog, locale=locale, key=key, tone=tone, text=text, buttons=buttons)
    return await _add_text(session, locale, key, tone, wording, VersionAction.EDIT, author_id)


async def reset_text(
    *, session: AsyncSession, catalog: Catalog, locale: str, key: str, tone: str, author_id: int | None
) -> TextVersion:
    """Back to the file's wording (recorded as a version, so it can be rolled back too)."""
    check_variant(catalog, locale, key, tone)
    return await _add_text(session, locale, key, tone, None, VersionAction.RESET, author_id)


async def rollback_text(
    *, session: AsyncSession, catalog: Catalog, version_id: int, author_id: int | None
) -> TextVersion:
    """Bring back an earlier version as the newest one (checked again: the file may have changed)."""
    old = await session.get(TextVersion, version_id)
    if old is None:
        raise ToneError("unknown_version", 404)
    if old.text is None:
        check_variant(catalog, old.locale, old.key, old.tone)
        wording = None
    else:
        titles = [b["title"] for b in old.buttons] if old.buttons is not None else None
        wording = validate(catalog, locale=old.locale, key=old.key, tone=old.tone, text=old.text, buttons=titles)
    return await _add_text(
        session, old.locale, old.key, old.tone, wording, VersionAction.ROLLBACK, author_id, restored_from=old.id
    )


async def _add_text(
    session: AsyncSession,
    locale: str,
    key: str,
    tone: str,
    wording: TextOverride | None,
    action: VersionAction,
    author_id: int | None,
    restored_from: int | None = None,
) -> TextVersion:
    version = TextVersion(
        locale=locale,
        key=key,
        tone=tone,
        text=wording.text if wording else None,
        buttons=[{"title": t, "payload": p} for t, p in wording.buttons] if wording and wording.buttons else None,
        action=action,
        restored_from_id=restored_from,
        author_id=author_id,
    )
    session.add(version)
    await session.flush()
    return version


async def text_history(
    *, session: AsyncSession, locale: str, key: str, tone: str, limit: int = 100
) -> list[TextVersion]:
    query = (
        select(TextVersion)
        .where(TextVersion.locale == locale, TextVersion.key == key, TextVersion.tone == tone)
        .order_by(TextVersion.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def latest_texts(*, session: AsyncSession, locale: str | None = None) -> dict[tuple[str, str, str], TextVersion]:
    """The applying version per (locale, key, tone), resets included."""
    newest = select(func.max(TextVersion.id)).group_by(TextVersion.locale, TextVersion.key, TextVersion.tone)
    if locale is not None:
        newest = newest.where(TextVersion.locale == locale)
    rows = await session.scalars(select(TextVersion).where(TextVersion.id.in_(newest)))
    return {(v.locale, v.key, v.tone): v for v in rows}


# -- tone defaults ---------------------------------------------------------------------------
def check_segment(segment: str) -> str:
    """Segment names are short lower-case identifiers (`high_balance`), also used in URLs."""
    segment = segment.strip().lower()
    if not SEGMENT_NAME.match(segment):
        raise ToneError("invalid_segment", 422, pattern=SEGMENT_NAME.pattern)
    return segment


def check_tone_target(locale: str, tone: str | None) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ToneError("unknown_locale", 404)
    if tone is not None and tone not in TONES:
        raise ToneError("unknown_tone", 422, tones=list(TONES))


async def set_tone(
    *,
    session: AsyncSession,
    locale: str,
    segment: str | None,
    tone: str | None,
    author_id: int | None,
    action: VersionAction = VersionAction.EDIT,
    restored_from: int | None = None,
) -> ToneDefaultVersion:
    """The default tone of a locale (segment None) or of a segment in it; tone None clears it."""
    check_tone_target(locale, tone)
    segment = check_segment(segment) if segment is not None else None
    if tone is None and action is VersionAction.EDIT:
        action = VersionAction.RESET
    version = ToneDefaultVersion(
        locale=locale, segment=segment, tone=tone, action=action, restored_from_id=restored_from, author_id=author_id
    )
    session.add(version)
    await session.flush()
    return version


async def rollback_tone(*, session: AsyncSession, version_id: int, author_id: int | None) -> ToneDefaultVersion:
    old = await session.get(ToneDefaultVersion, version_id)
    if old is None:
        raise ToneError("unknown_version", 404)
    return await set_tone(
        session=session, locale=old.locale, segment=old.segment, tone=old.tone, author_id=author_id,
        action=VersionAction.ROLLBACK, restored_from=old.id,
    )  # fmt: skip


async def tone_history(
    *, session: AsyncSession, locale: str | None = None, limit: int = 200
) -> list[ToneDefaultVersion]:
    query = select(ToneDefaultVersion).order_by(ToneDefaultVersion.id.desc()).limit(limit)
    if locale is not None:
        query = query.where(ToneDefaultVersion.locale == locale)
    return list(await session.scalars(query))


async def latest_tones(*, session: AsyncSession) -> dict[tuple[str, str | None], ToneDefaultVersion]:
    newest = select(func.max(ToneDefaultVersion.id)).group_by(ToneDefaultVersion.locale, ToneDefaultVersion.segment)
    rows = await session.scalars(select(ToneDefaultVersion).where(ToneDefaultVersion.id.in_(newest)))
    return {(v.locale, v.segment): v for v in rows}


# -- the catalog's snapshot ------------------------------------------------------------------
async def stamp(*, session: AsyncSession) -> tuple[int, ...]:
    """Changes whenever a version is added (count too: ids can commit out of order on PostgreSQL)."""
    texts = (await session.execute(select(func.count(TextVersion.id), func.max(TextVersion.id)))).one()
    tones = (await session.execute(select(func.count(ToneDefaultVersion.id), func.max(ToneDefaultVersion.id)))).one()
    return tuple(int(n or 0) for n in (*texts, *tones))


async def load(*, session: AsyncSession) -> Overrides:
    current = await stamp(session=session)
    texts = {
        variant: TextOverride(
            text=v.text, buttons=tuple((b["title"], b["payload"]) for b in v.buttons) if v.buttons else None
        )
        for variant, v in (await latest_texts(session=session)).items()
        if v.text is not None
    }
    locale_tones: dict[str, str] = {}
    segment_tones: dict[tuple[str, str], str] = {}
    for (locale, segment), v in (await latest_tones(session=session)).items():
        if v.tone is None:
            continue
        if segment is None:
            locale_tones[locale] = v.tone
        else:
            segment_tones[(locale, segment)] = v.tone
    return Overrides(stamp=current, texts=texts, locale_tones=locale_tones, segment_tones=segment_tones)
