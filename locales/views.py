"""Rasa's external NLG endpoint: Rasa asks for a response by name, we answer with the text in
the conversation's language and tone. Editing a text (a YAML file, or live on the admin page,
see tone/) therefore needs no retraining.

Tone, first that applies: an explicit `tone` (argument, slot, message metadata), the tone an
admin chose for one of the debtor's segments, the locale's default (the admin's, else
locale.yml).

Only Rasa may ask: `Authorization: Bearer <NLG_TOKEN>` (bot/endpoints.yml sends it), else 401 —
any text rendered with any arguments would otherwise be a free text-forging service."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from core.deps import SessionDep, SettingsDep
from core.errors import refusals
from core.internal_tokens import bearer, token_matches
from engine.conversations.models import Conversation
from locales.catalog import TONES, Catalog
from locales.deps import CatalogDep
from locales.tone import segments
from locales.tone.overrides import ensure_attached
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction

log = logging.getLogger(__name__)
router = APIRouter(tags=["nlg"])


class NLGRequest(BaseModel):
    response: str = Field(max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict)
    tracker: dict[str, Any] = Field(default_factory=dict)
    channel: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


# Rasa's NLG answer (its wire format), made from the catalog's `Reply` (`Reply.wire()`).
class NLGResponse(BaseModel):
    text: str
    buttons: list[dict[str, str]] = Field(default_factory=list)


def _pick(body: NLGRequest, key: str) -> str | None:
    """Explicit argument first, then a slot (an explicit choice in this session), then what
    the gateway decided for the latest message."""
    if value := body.arguments.get(key):
        return str(value)
    if value := (body.tracker.get("slots") or {}).get(key):
        return str(value)
    metadata = (body.tracker.get("latest_message") or {}).get("metadata") or {}
    value = metadata.get(key)
    return str(value) if value else None


async def _segment_tone(body: NLGRequest, catalog: Catalog, session: SessionDep, locale: str) -> str | None:
    """The tone for the debtor's segment (the Rasa sender id is the conversation id)."""
    sender = body.tracker.get("sender_id")
    if not isinstance(sender, str) or not sender or len(sender) > 64:
        return None
    try:
        return await segments.tone_for(session=session, catalog=catalog, conversation_id=sender, locale=locale)
    except SQLAlchemyError as exc:  # the answer matters more than the tone: the locale default
        log.warning("nlg.segment_unavailable", extra={"error": str(exc)})
        return None


async def _advice(body: NLGRequest, session: SessionDep, locale: str) -> dict[str, Any]:
    """The free debt advice of the conversation's jurisdiction (the verified debtor's country, else
    the best guess for a stranger), for a text that names it without the action giving it."""
    sender = body.tracker.get("sender_id")
    if not isinstance(sender, str) or not sender or len(sender) > 64:
        return {}
    try:
        conversation = await session.get(Conversation, sender)
        debtor = await session.get(Debtor, conversation.debtor_id) if conversation and conversation.debtor_id else None
    except SQLAlchemyError as exc:  # the answer matters more: the generic wording (no organisation)
        log.warning("nlg.jurisdiction_unavailable", extra={"error": str(exc)})
        return {}
    if debtor is not None:
        where = jurisdiction.of(debtor)
    else:
        channel, address = (conversation.channel, conversation.external_id) if conversation else (None, None)
        where = jurisdiction.for_stranger(channel=channel, address=address, locale=locale)
    return jurisdiction.advice_arguments(where)


def require_nlg_token(request: Request, settings: SettingsDep) -> None:
    """Rasa's NLG token, compared in constant time; none configured refuses everyone."""
    if not token_matches(bearer(request.headers.get("authorization")), settings.nlg_token):
        raise HTTPException(status_code=401, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"})


@router.post("/nlg", response_model=NLGResponse, dependencies=[Depends(require_nlg_token)], responses=refusals(401))
async def generate(
    body: NLGRequest, request: Request, catalog: CatalogDep, settings: SettingsDep, session: SessionDep
) -> NLGResponse:
    ensure_attached(catalog, request.app.state.sessionmaker)
    await catalog.refresh()  # an admin's edit shows on the next message, in every gateway process
    locale = _pick(body, "locale") or settings.default_locale
    tone = _pick(body, "tone")
    if tone not in TONES:
        tone = await _segment_tone(body, catalog, session, locale)
    key = body.response
    if not catalog.has(key):
        log.error("nlg.unknown_response", extra={"response": key})
        key = "utter_default"
    arguments = dict(body.arguments)
    if "advice" not in arguments and "{advice}" in catalog.text(key, locale, tone):
        arguments |= await _advice(body, session, locale)
    rendered = catalog.render(key, locale, tone, arguments)
    return NLGResponse(**rendered.wire())
