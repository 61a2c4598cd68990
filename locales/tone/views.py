"""Admin API for texts: routes under /agent/api/admin/tone (admins only) — search, the file's
and the current wording per tone, save, reset, history, rollback, samples and preview. Tone
defaults and segments are in settings_views.py (same prefix). See api.py for the conventions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.deps import SessionDep
from core.errors import refusals
from locales import PLAIN, SUPPORTED_LOCALES, TONES, Catalog, TextOverride
from locales.deps import CatalogDep
from locales.tone import preview as tone_preview
from locales.tone import service, settings_views
from locales.tone.api import Key, Locale, Tone, VersionId, author_names, commit_change, refusal, version_json
from locales.tone.models import TextVersion
from people.auth.deps import AdminDep, AdminWriteDep

router = APIRouter(prefix="/agent/api/admin/tone", tags=["admin-tone"])


class TextIn(BaseModel):
    text: str = Field(max_length=service.MAX_TEXT_CHARS * 2)
    buttons: list[Annotated[str, Field(max_length=service.MAX_BUTTON_CHARS * 2)]] | None = Field(None, max_length=20)


class PreviewIn(TextIn):
    locale: str = Field(max_length=8)
    key: str = Field(max_length=100)
    tone: str = Field(max_length=16)
    text: str | None = Field(None, max_length=service.MAX_TEXT_CHARS * 2)  # type: ignore[assignment]
    # "draft": `text`/`buttons` as typed; "current": what the bot says now; "default": the file's.
    source: str = Field("draft", pattern=r"^(draft|current|default)$")
    arguments: dict[str, Any] | None = None


def _variant(
    catalog: Catalog, locale: str, key: str, tone: str, latest: TextVersion | None, authors: dict[int, str]
) -> dict[str, Any]:
    default_text = catalog.default_text(key, locale, tone)
    default = {"text": default_text, "buttons": catalog.default_buttons(key, locale)}
    stored = latest if latest is not None and latest.text is not None else None
    current = {"text": stored.text, "buttons": stored.buttons or default["buttons"]} if stored else default
    expected = service.placeholders(default_text)
    try:
        stale = stored is not None and service.placeholders(stored.text or "") != expected
    except ValueError:
        stale = True
    return {
        "tone": tone, "default": default, "current": current, "overridden": stored is not None, "stale": stale,
        "placeholders": sorted(expected), "version": version_json(latest, authors) if latest else None,
    }  # fmt: skip


def _check_locale(locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise HTTPException(status_code=404, detail="unknown_locale")


# -- texts ---------------------------------------------------------------------------------
@router.get("/locales")
async def overview(admin: AdminDep, session: SessionDep, catalog: CatalogDep) -> dict[str, Any]:
    tones = await service.latest_tones(session=session)
    locales = []
    for code in SUPPORTED_LOCALES:
        config = catalog.config(code)
        chosen = tones.get((code, None))
        locales.append({"code": code, "name": config.name, "file_tone": config.default_tone,
                        "tone": (chosen.tone if chosen else None) or config.default_tone})  # fmt: skip
    limits = {"text": service.MAX_TEXT_CHARS, "button": service.MAX_BUTTON_CHARS}
    return {"locales": locales, "tones": list(TONES), "plain": PLAIN, "limits": limits}


@router.get("/texts", responses=refusals(404))
async def list_texts(
    admin: AdminDep,
    session: SessionDep,
    catalog: CatalogDep,
    locale: Annotated[str, Query(max_length=8)] = "en",
    q: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    """Keys of a locale, filtered by `q` in the key or any wording (file or admin's)."""
    _check_locale(locale)
    latest = await service.latest_texts(session=session, locale=locale)
    needle = q.strip().lower()
    items = []
    for key in sorted(catalog.keys(locale)):
        variants = catalog.variants(key, locale)
        stored = {t: latest[(locale, key, t)].text for t in variants if (locale, key, t) in latest}
        edited = [t for t, text in stored.items() if text is not None]
        texts = [catalog.default_text(key, locale, t) for t in variants] + [t or "" for t in stored.values()]
        if needle and needle not in key.lower() and not any(needle in t.lower() for t in texts):
            continue
        shown = stored.get(catalog.default_tone(locale) if PLAIN not in variants else PLAIN)
        summary = shown or catalog.default_text(key, locale, None)
        items.append({"key": key, "variants": list(variants), "edited": edited, "text": summary})
    return {"locale": locale, "items": items}


@router.get("/texts/{locale}/{key}", responses=refusals(404))
async def get_text(
    locale: Locale, key: Key, admin: AdminDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    try:
        service.check_key(catalog, locale, key)
    except service.ToneError as exc:
        raise refusal(exc) from exc
    latest = await service.latest_texts(session=session, locale=locale)
    versions = {t: latest.get((locale, key, t)) for t in catalog.variants(key, locale)}
    authors = await author_names(session, {v.author_id for v in versions.values() if v})
    return {
        "locale": locale, "key": key, "plain": PLAIN in versions,
        "variants": [_variant(catalog, locale, key, t, v, authors) for t, v in versions.items()],
    }  # fmt: skip


async def _variant_after(session: AsyncSession, catalog: Catalog, version: TextVersion) -> dict[str, Any]:
    authors = await author_names(session, {version.author_id})
    return _variant(catalog, version.locale, version.key, version.tone, version, authors)


@router.put("/texts/{locale}/{key}/{tone}", responses=refusals(404, 422))
async def save_text(
    locale: Locale, key: Key, tone: Tone, body: TextIn, request: Request, admin: AdminWriteDep, session: SessionDep,
    catalog: CatalogDep,
) -> dict[str, Any]:  # fmt: skip
    """A new wording (a new version); 422 lists missing/unknown placeholders."""
    work = service.save_text(session=session, catalog=catalog, locale=locale, key=key, tone=tone, text=body.text,
                             buttons=body.buttons, author_id=admin.id)  # fmt: skip
    return await _variant_after(session, catalog, await commit_change(request, session, catalog, work))


@router.post("/texts/{locale}/{key}/{tone}/reset", responses=refusals(404, 422))
async def reset_text(
    locale: Locale, key: Key, tone: Tone, request: Request, admin: AdminWriteDep, session: SessionDep,
    catalog: CatalogDep,
) -> dict[str, Any]:  # fmt: skip
    work = service.reset_text(session=session, catalog=catalog, locale=locale, key=key, tone=tone, author_id=admin.id)
    return await _variant_after(session, catalog, await commit_change(request, session, catalog, work))


@router.get("/texts/{locale}/{key}/{tone}/history")
async def text_history(locale: Locale, key: Key, tone: Tone, admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    versions = await service.text_history(session=session, locale=locale, key=key, tone=tone)
    authors = await author_names(session, {v.author_id for v in versions})
    return {"versions": [version_json(v, authors) for v in versions]}


@router.post("/text-versions/{version_id}/rollback", responses=refusals(404, 422))
async def rollback_text(
    version_id: VersionId, request: Request, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    """Bring an earlier version back (recorded as a new version)."""
    work = service.rollback_text(session=session, catalog=catalog, version_id=version_id, author_id=admin.id)
    return await _variant_after(session, catalog, await commit_change(request, session, catalog, work))


@router.get("/samples/{locale}/{key}", responses=refusals(404))
async def samples(locale: Locale, key: Key, admin: AdminDep, catalog: CatalogDep) -> dict[str, Any]:
    _check_locale(locale)
    if key not in catalog.keys(locale):
        raise HTTPException(status_code=404, detail="unknown_key")
    return {"arguments": tone_preview.sample_arguments(catalog, locale=locale, key=key, agent=admin.display_name)}


@router.post("/preview", responses=refusals(404, 422))
async def preview(body: PreviewIn, admin: AdminWriteDep, catalog: CatalogDep) -> dict[str, Any]:
    """Render a draft (validated like a save), the current wording or the file's, with sample or
    given arguments — formatted exactly as the bot would."""
    try:
        service.check_variant(catalog, body.locale, body.key, body.tone)
        if body.source == "draft":
            draft: TextOverride | None = service.validate(
                catalog, locale=body.locale, key=body.key, tone=body.tone, text=body.text or "", buttons=body.buttons
            )
        elif body.source == "default":
            draft = TextOverride(text=catalog.default_text(body.key, body.locale, body.tone))
        else:
            await catalog.refresh()
            draft = None
    except service.ToneError as exc:
        raise refusal(exc) from exc
    arguments = body.arguments
    if arguments is None:
        arguments = tone_preview.sample_arguments(catalog, locale=body.locale, key=body.key, agent=admin.display_name)
    tone = body.tone if body.tone != PLAIN else None
    try:
        rendered = catalog.render(body.key, body.locale, tone, arguments, draft=draft)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        raise HTTPException(status_code=422, detail={"code": "arguments", "error": str(exc)}) from exc
    return {**rendered.wire(), "arguments": arguments}


router.include_router(settings_views.router)
