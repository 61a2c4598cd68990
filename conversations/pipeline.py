"""One inbound debtor message through the gateway: store, pick the language, ask Rasa, store
the replies. The inbound message is committed before Rasa is called, so it is kept in the
transcript even when Rasa or the action server is down."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from conversations import service as conversations_service
from conversations.models import Direction, Message
from conversations.rasa_client import RasaClient, RasaUnavailable
from debtors import service as debtors_service
from language import service as language_service
from language.detector import Detection, LanguageDetector
from locales import Catalog, resolve_locale
from privacy.cards import MARKER, redact_card_numbers

log = logging.getLogger(__name__)
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def sanitize(text: str) -> str:
    """NFC, no control characters (newlines and tabs become spaces), trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if ch in "\n\r\t" else ch
        for ch in text
        if ch in "\n\r\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return re.sub(r"\s+", " ", text).strip()


Pusher = Callable[[str, list[Reply]], Awaitable[None]]


@dataclass
class Pipeline:
    sessionmaker: async_sessionmaker[AsyncSession]
    rasa: RasaClient
    catalog: Catalog
    detector: LanguageDetector
    settings: GatewaySettings
    # Per channel: how to deliver a message the debtor did not just ask for (receipts).
    pushers: dict[str, Pusher] = field(default_factory=dict)

    async def notify(self, *, conversation_id: str, key: str, arguments: dict[str, Any]) -> Reply | None:
        """Say something unprompted in a conversation, in its language: stored, then pushed."""
        async with self.sessionmaker() as session:
            conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
            if conversation is None:
                return None
            locale = conversation.locale or self.settings.default_locale
            rendered = self.catalog.render(key, locale, None, arguments)
            reply = Reply(text=rendered.text, buttons=rendered.buttons)
            await conversations_service.add_message(
                session=session, conversation=conversation, direction=Direction.OUTBOUND, text=reply.text, locale=locale
            )
            await session.commit()
            channel, address = conversation.channel, conversation.external_id
        pusher = self.pushers.get(channel)
        if pusher is not None:
            await pusher(address, [reply])
        return reply

    def _local(self, key: str, locale: str, **arguments: object) -> Reply:
        rendered = self.catalog.render(key, locale, None, dict(arguments))
        return Reply(text=rendered.text, buttons=rendered.buttons)

    async def handle(self, *, channel: str, external_id: str, text: str, locale_hint: str | None = None) -> list[Reply]:
        # Card numbers never reach the transcript, the logs or Rasa.
        clean, cards_found = redact_card_numbers(sanitize(text))
        readable = bool(_HAS_WORD.search(clean))
        detection = (
            await asyncio.to_thread(self.detector.detect, clean[: self.settings.max_message_chars])
            if readable and not clean.startswith("/")
            else Detection(locale=None, confidence=0.0, scores={})
        )
        async with self.sessionmaker() as session:
            conversation = await conversations_service.get_or_create(
                session=session, channel=channel, external_id=external_id
            )
            prior = resolve_locale(locale_hint)
            if conversation.debtor_id:
                debtor = await debtors_service.get(session=session, debtor_id=conversation.debtor_id)
                prior = debtor.locale if debtor else prior
            choice = language_service.choose(
                detection=detection,
                text=clean,
                current=conversation.locale,
                locked=conversation.locale_locked,
                prior=prior,
                default=self.settings.default_locale,
            )
            conversation.locale = choice.locale
            inbound = await conversations_service.add_message(
                session=session,
                conversation=conversation,
                direction=Direction.INBOUND,
                text=clean or text,
                locale=choice.locale,
                detected_language=detection.locale,
                language_confidence=round(detection.confidence, 4) if detection.locale else None,
            )
            await session.commit()
            conversation_id, inbound_id, locale = conversation.id, inbound.id, choice.locale

        intent = confidence = None
        warning = [self._local("utter_card_number_warning", locale)] if cards_found else []
        if cards_found and not _HAS_WORD.search(clean.replace(MARKER, "")):
            replies = []  # the message was only a card number: the warning is the answer
        elif not readable:
            replies = [self._local("utter_not_text", locale)]
        elif len(clean) > self.settings.max_message_chars:
            replies = [self._local("utter_too_long", locale, limit=self.settings.max_message_chars)]
        else:
            replies, intent, confidence = await self._ask_rasa(conversation_id, clean, locale, channel)
        replies = warning + replies

        async with self.sessionmaker() as session:
            # Re-read: an action may have changed the conversation (verified, language).
            current = await conversations_service.get(session=session, conversation_id=conversation_id)
            assert current is not None
            message = await session.get(Message, inbound_id)
            if message is not None:
                message.intent, message.confidence = intent, confidence
            for reply in replies:
                await conversations_service.add_message(
                    session=session,
                    conversation=current,
                    direction=Direction.OUTBOUND,
                    text=reply.text,
                    locale=current.locale,
                )
            await session.commit()
        return replies

    async def _ask_rasa(
        self, conversation_id: str, text: str, locale: str, channel: str
    ) -> tuple[list[Reply], str | None, float | None]:
        if not await self.rasa.action_server_up():
            log.warning("action_server.unavailable")
            return [self._local("utter_unavailable", locale)], None, None
        try:
            answer = await self.rasa.send(
                sender=conversation_id, text=text, metadata={"locale": locale, "channel": channel}
            )
        except RasaUnavailable as exc:
            log.warning("rasa.unavailable", extra={"error": str(exc)})
            return [self._local("utter_unavailable", locale)], None, None
        replies = [Reply(text=m.text, buttons=m.buttons) for m in answer.messages]
        if not replies:
            # Rasa answers nothing when a custom action failed: tell the debtor, don't go silent.
            alive, _ = await self.rasa.action_server_status()
            key = "utter_default" if alive else "utter_unavailable"
            replies = [self._local(key, locale)]
        return replies, answer.intent, answer.confidence
