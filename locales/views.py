"""Rasa's external NLG endpoint: Rasa asks for a response by name, we answer with the text in
the conversation's language and tone. Editing a YAML text therefore needs no retraining."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.deps import CatalogDep, SettingsDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["nlg"])


class NLGRequest(BaseModel):
    response: str = Field(max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict)
    tracker: dict[str, Any] = Field(default_factory=dict)
    channel: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


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


@router.post("/nlg", response_model=NLGResponse)
async def generate(body: NLGRequest, catalog: CatalogDep, settings: SettingsDep) -> NLGResponse:
    locale = _pick(body, "locale") or settings.default_locale
    tone = _pick(body, "tone")
    key = body.response
    if not catalog.has(key):
        log.error("nlg.unknown_response", extra={"response": key})
        key = "utter_default"
    rendered = catalog.render(key, locale, tone, body.arguments)
    return NLGResponse(text=rendered.text, buttons=rendered.buttons)
