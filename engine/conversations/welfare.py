"""Welfare first: how a message's distress outranks every other reading of it (issue 14).

* A self-harm message gets the crisis line at once (pipeline) and then, on channels where we can
  write first, *one* question whether messages should stop: consent is never withdrawn silently
  on it, whatever else it may read as ("ich will einfach nicht mehr" is not an unsubscribe).
* An opt-out read from free text (Rasa's `opt_out` intent, not a STOP keyword) gets one
  clarifying question instead: "please stop adding fees to my account" is about fees. Yes opts
  out (the usual confirmation), no carries on; anything else is answered normally. This is the
  one-time confirmation text the US regulator allows (47 CFR 64.1200(a)(12)). Keywords stay
  immediate (carrier rules) and are handled before this module is asked.
* A message with distress cues that Rasa did not understand goes to a person with a kind
  reply, never "please rephrase" (the escalation itself is the pipeline's signal escalation).

The pending question lives in the transcript: the assistant's last message in the conversation
carries `ASK_STOP` as its intent. No extra table, and it lapses by itself once anything else is
said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations.models import Conversation, Direction, Message
from engine.signals.lexicon import normalize
from locales import Catalog
from locales.catalog import SUPPORTED_LOCALES, TONES
from locales.reply import Reply
from people.consent import service as consent_service
from people.debtors import service as debtors_service
from people.jurisdiction import service as jurisdiction

ASK_STOP = "ask_stop_messages"  # Message.intent of the assistant's question
OPT_OUT_INTENT = "opt_out"
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
REPHRASE_KEY = "utter_default"  # what Rasa says when it did not understand
CONFIRMED_SOURCE = "confirmed:opt_out"  # consent source after a yes to the question
# The question's buttons (locales/*/signals.yml), and their numbers on SMS/WhatsApp.
YES_PAYLOAD, NO_PAYLOAD = "/affirm", "/deny"
# Recognition vocabulary, not user-facing text: short answers to the question in our locales.
# Nothing ambiguous ("ok" may only acknowledge the crisis line, "don't" may mean either).
YES_WORDS = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "sure", "please", "yes please", "please do", "yes stop"}
    | {"ja", "japp", "jo", "ja tack", "ja gärna", "gärna", "ja stoppa"}  # sv
    | {"ja", "jawohl", "jep", "ja bitte", "bitte", "ja gerne", "gerne", "ja stopp"}  # de
    | {"sim", "s", "pode", "pode sim", "isso", "quero", "sim por favor", "por favor", "sim pode parar"}  # pt
)
NO_WORDS = frozenset(
    {"no", "n", "nope", "nah", "no thanks", "no thank you", "keep them"}
    | {"nej", "nä", "nej tack", "nix"}  # sv
    | {"nein", "nee", "nö", "nein danke", "bitte nicht"}  # de
    | {"nao", "não", "nao obrigado", "nao obrigada", "não obrigado", "não obrigada"}  # pt
)
_YES = frozenset(normalize(w) for w in YES_WORDS)
_NO = frozenset(normalize(w) for w in NO_WORDS)
Render = Callable[..., Reply]  # Pipeline._local: (key, locale, **arguments) -> Reply


@dataclass(frozen=True)
class Asked:
    """Whether the assistant's last message was the question, and whether it was ever asked."""

    pending: bool = False
    ever: bool = False


async def asked(*, session: AsyncSession, conversation_id: str, before: int) -> Asked:
    """The question's state for the message with id `before` (the one being answered)."""
    outbound = (Message.conversation_id == conversation_id, Message.direction == Direction.OUTBOUND)
    last = await session.scalar(
        select(Message.intent).where(*outbound, Message.id < before).order_by(Message.id.desc()).limit(1)
    )
    if last == ASK_STOP:
        return Asked(pending=True, ever=True)
    ever = await session.scalar(select(Message.id).where(*outbound, Message.intent == ASK_STOP).limit(1))
    return Asked(pending=False, ever=ever is not None)


def answer_to_question(text: str) -> bool | None:
    """True (stop), False (keep) or None (not an answer) for a reply to the question: its buttons'
    payloads, their numbers on SMS/WhatsApp (1 yes, 2 no) or a short yes/no in our locales."""
    stripped = text.strip()
    if stripped in (YES_PAYLOAD, "1"):
        return True
    if stripped in (NO_PAYLOAD, "2"):
        return False
    flat = normalize(stripped)
    if flat in _YES:
        return True
    if flat in _NO:
        return False
    return None


def question(render: Render, locale: str, *, crisis: bool = False) -> Reply:
    """The one question whether messages should stop (gentler after the crisis line)."""
    shown = render("utter_crisis_ask_stop_messages" if crisis else "utter_ask_stop_messages", locale)
    return replace(shown, intent=ASK_STOP)


def settle(render: Render, locale: str, stop: bool) -> tuple[tuple[bool, str] | None, list[Reply]]:
    """The answer to the question: (consent change, replies)."""
    if stop:
        return (True, CONFIRMED_SOURCE), [render("utter_opt_out_info", locale)]
    return None, [render("utter_stop_messages_kept", locale)]


def is_rephrase(catalog: Catalog, text: str) -> bool:
    """Rasa's "sorry, I didn't get that, please rephrase" in any locale and tone."""
    return any(text == catalog.render(REPHRASE_KEY, code, tone).text for code in SUPPORTED_LOCALES for tone in TONES)


@dataclass(frozen=True)
class AfterRasa:
    replies: list[Reply]
    consent_change: tuple[bool, str] | None = None
    question: list[Reply] | None = None  # said last, after any queue notice


def after_rasa(
    *,
    render: Render,
    catalog: Catalog,
    locale: str,
    intent: str | None,
    replies: list[Reply],
    pending: bool,
    vulnerable: bool,
) -> AfterRasa:
    """Rasa's answer, read welfare first: a free-text opt-out is asked about (unless it answers
    the question already asked), a "please rephrase" on a message with distress cues becomes a
    kind word that a person will read it (the pipeline escalates vulnerable messages)."""
    if intent == OPT_OUT_INTENT:
        if pending:  # "yes, stop them" in the person's own words
            return AfterRasa(replies, (True, CONFIRMED_SOURCE))
        return AfterRasa([], None, [question(render, locale)])
    if vulnerable:
        if intent in FALLBACK_INTENTS:  # not understood at all: a person reads it
            return AfterRasa([render("utter_welfare_handoff", locale)])
        rephrase = [r for r in replies if is_rephrase(catalog, r.text)]
        if rephrase:  # Rasa's own fallback after some intent
            return AfterRasa([render("utter_welfare_handoff", locale), *(r for r in replies if r not in rephrase)])
    return AfterRasa(replies)


async def crisis_line(
    session: AsyncSession, *, conversation_id: str, channel: str, address: str, locale: str
) -> dict[str, Any]:
    """The crisis line of the writer's jurisdiction, not of their language: the debtor's once known
    (verified here, or their number linked before), else the best guess for a stranger."""
    debtor_id = await session.scalar(
        select(Conversation.debtor_id).where(Conversation.id == conversation_id)
    ) or await consent_service.linked_debtor(session=session, channel=channel, address=address)
    debtor = await debtors_service.get(session=session, debtor_id=debtor_id) if debtor_id else None
    where = (
        jurisdiction.of(debtor)
        if debtor is not None
        else jurisdiction.for_stranger(channel=channel, address=address, locale=locale)
    )
    return jurisdiction.crisis_arguments(where)
