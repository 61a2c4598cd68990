"""One inbound debtor message through the gateway: store, pick the language, ask Rasa, store
the replies. The inbound message is committed before Rasa is called, so it is kept in the
transcript even when Rasa or the action server is down."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import InboundMessage, OutputChannel
from core import metrics
from core.config import CoreSettings
from core.database import READ_ONLY, utcnow
from core.pii.cards import MARKER
from engine.conversations import commands, welfare
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction, Message
from engine.conversations.outbound import CONSENT_CHANNELS, OnDelivered, Outbound
from engine.conversations.rasa_client import RasaClient, RasaUnavailable
from engine.language import service as language_service
from engine.language.detector import Detection, LanguageDetector
from engine.signals import Assessment, SignalScorer
from handoff import config as handoff_config
from handoff import service as handoff_service
from handoff.models import Reason, State
from locales import Catalog, resolve_locale
from locales.reply import Reply
from people.consent import service as consent_service
from people.consent.keywords import is_start, is_stop
from people.debtors import service as debtors_service

log = logging.getLogger(__name__)
# Work a caller adds to the pipeline's own write (one commit instead of two): after recording a
# message (with its id), after storing delivery results.
OnRecorded = Callable[[AsyncSession, int], Awaitable[None]]
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)


class BotUnavailable(Exception):
    """Rasa or the action server is down: the inbox keeps the message and retries later."""


@dataclass(frozen=True)
class Recorded:
    conversation_id: str
    message_id: int
    channel: str
    address: str
    locale: str
    text: str
    cards_found: bool
    immediate_human: bool = False
    # Vulnerability signals (cues or model distress) that send the conversation to a person.
    vulnerable: bool = False
    signal_reason: str | None = None


def _signals(assessment: Assessment | None) -> dict[str, Any] | None:
    if assessment is None or not (assessment.cues or assessment.vulnerable):
        return None
    return {
        "cues": assessment.cues,
        "vulnerable": assessment.vulnerable,
        "immediate_human": assessment.immediate_human,
        "priority": assessment.priority,
        "reason": assessment.reason,
    }


@dataclass
class Pipeline(Outbound):
    sessionmaker: async_sessionmaker[AsyncSession]
    rasa: RasaClient
    catalog: Catalog
    detector: LanguageDetector
    settings: CoreSettings
    scorer: SignalScorer = field(default_factory=lambda: SignalScorer.from_settings(None))
    # Per channel: how to send (inbox replies on provider channels, receipts, pushes).
    outputs: dict[str, OutputChannel] = field(default_factory=dict)

    def _local(self, key: str, locale: str, **arguments: object) -> Reply:
        return self.catalog.render(key, locale, None, dict(arguments))

    async def record(self, *, message: InboundMessage, then: OnRecorded | None = None) -> Recorded:
        """Store the inbound message in the transcript and pick the conversation's language.
        `then` runs in the same transaction with the new message's id (the inbox links its event
        to it there)."""
        # Card numbers never reach the transcript, the logs or Rasa: InboundMessage redacted them.
        channel, external_id, locale_hint = message.channel, message.sender, message.locale_hint
        clean, cards_found = message.text, message.cards_found
        readable = bool(_HAS_WORD.search(clean))
        # Keywords (STOP, START) and button payloads say nothing about the language.
        neutral = clean.startswith("/") or is_stop(clean) or is_start(clean)
        detection = (
            await asyncio.to_thread(self.detector.detect, clean[: self.settings.max_message_chars])
            if readable and not neutral
            else Detection(locale=None, confidence=0.0, scores={})
        )
        # Vulnerability signals on every message (CPU work: off the event loop, outside a transaction).
        assessment = (
            await asyncio.to_thread(
                self.scorer.assess, clean[: self.settings.max_message_chars], detection.locale or locale_hint
            )
            if readable
            else None
        )
        async with self.sessionmaker() as session:
            conversation = await conversations_service.get_or_create(
                session=session, channel=channel, external_id=external_id
            )
            prior = resolve_locale(locale_hint)
            # The debtor's language: verified here, or a phone/Telegram user verified before.
            debtor_id = conversation.debtor_id or await consent_service.linked_debtor(
                session=session, channel=channel, address=external_id
            )
            if debtor_id:
                debtor = await debtors_service.get(session=session, debtor_id=debtor_id)
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
            conversation.last_inbound_at = utcnow()
            inbound = await conversations_service.add_message(
                session=session,
                conversation=conversation,
                direction=Direction.INBOUND,
                text=clean,
                locale=choice.locale,
                detected_language=detection.locale,
                language_confidence=round(detection.confidence, 4) if detection.locale else None,
                distress_score=round(assessment.distress, 4)
                if assessment and assessment.distress is not None
                else None,
                signals=_signals(assessment),
            )
            if then is not None:
                await then(session, inbound.id)
            await session.commit()
            return Recorded(
                conversation_id=conversation.id,
                message_id=inbound.id,
                channel=channel,
                address=external_id,
                locale=choice.locale,
                text=clean,
                cards_found=cards_found,
                immediate_human=bool(assessment and assessment.immediate_human),
                vulnerable=bool(assessment and assessment.vulnerable),
                signal_reason=assessment.reason if assessment else None,
            )

    async def answer(
        self, recorded: Recorded, *, raise_when_down: bool = False, then: OnDelivered | None = None
    ) -> list[Reply]:
        """The replies to a recorded message (stored in the transcript). With raise_when_down the
        caller (the inbox worker) retries later instead of answering "temporarily unavailable";
        `then` runs in the write that stores the replies (the inbox marks its event answered)."""
        locale, clean, channel = recorded.locale, recorded.text, recorded.channel
        await self.catalog.refresh()  # admins' latest text edits
        intent = confidence = None
        consent_change: tuple[bool, str] | None = None
        async with self.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
            opted_out = await consent_service.opted_out(session=session, channel=channel, address=recorded.address)
            route, route_notice, rasa_paused = await self._route(session, recorded.conversation_id)
            asked = await welfare.asked(
                session=session, conversation_id=recorded.conversation_id, before=recorded.message_id
            )
            crisis_line = (
                await welfare.crisis_line(
                    session, conversation_id=recorded.conversation_id, channel=recorded.channel,
                    address=recorded.address, locale=recorded.locale,
                )
                if recorded.immediate_human
                else {}
            )  # fmt: skip
        silenced = opted_out and channel in CONSENT_CHANNELS
        warning = [self._local("utter_card_number_warning", locale)] if recorded.cards_found and not silenced else []
        keyword = f"keyword:{clean.strip().upper()[:40]}"
        question: list[Reply] = []  # welfare.py: whether to stop messages, asked last
        if is_stop(clean):
            consent_change, replies = (True, keyword), [self._local("utter_opt_out_info", locale)]
        elif is_start(clean):
            consent_change, replies = (False, keyword), [self._local("utter_opted_in", locale)]
        elif asked.pending and (stop := welfare.answer_to_question(clean)) is not None:
            consent_change, replies = welfare.settle(self._local, locale, stop)
        elif recorded.immediate_human:
            # Signs of self-harm: no collection talk at all, crisis support now (a person follows),
            # then once whether messages should stop: never an opt-out read silently from it.
            replies = [self._local("utter_crisis_support", locale, **crisis_line)]
            if channel in CONSENT_CHANNELS and not silenced and not asked.ever:
                question = [welfare.question(self._local, locale, crisis=True)]
        elif silenced:
            replies = []  # withdrawn consent: the message is kept, nothing is sent back
        elif route == State.AGENT:
            replies = []  # an agent owns the conversation: the message is theirs (live in the console)
        elif route == "held":
            # Waiting for a person after signs of crisis: no collection talk, a gentle note now and then.
            replies = [self._local("utter_handoff_waiting", locale)] if route_notice else []
        elif recorded.cards_found and not _HAS_WORD.search(clean.replace(MARKER, "")):
            replies = []  # the message was only a card number: the warning is the answer
        elif not _HAS_WORD.search(clean):
            replies = [self._local("utter_not_text", locale)]
        elif len(clean) > self.settings.max_message_chars:
            replies = [self._local("utter_too_long", locale, limit=self.settings.max_message_chars)]
        else:
            if rasa_paused:
                await self.resume_rasa(recorded.conversation_id)
            replies, intent, confidence = await self._ask_rasa(
                recorded.conversation_id, clean, locale, channel, raise_when_down
            )
            read = welfare.after_rasa(
                render=self._local, catalog=self.catalog, locale=locale, intent=intent, replies=replies,
                pending=asked.pending, vulnerable=recorded.vulnerable,
            )  # fmt: skip
            replies, consent_change, question = read.replies, read.consent_change, read.question or []
        replies = warning + replies

        async with self.sessionmaker() as session:
            # Re-read: an action may have changed the conversation (verified, language).
            current = await conversations_service.get(session=session, conversation_id=recorded.conversation_id)
            assert current is not None
            message = await session.get(Message, recorded.message_id)
            if message is not None:
                message.intent, message.confidence = intent, confidence
            if consent_change is not None:
                await consent_service.set_opted_out(
                    session=session, channel=channel, address=recorded.address, opted_out=consent_change[0],
                    source=consent_change[1], debtor_id=current.debtor_id,
                )  # fmt: skip
            if current.debtor_id and channel != "webchat":
                await consent_service.link(
                    session=session, channel=channel, address=recorded.address, debtor_id=current.debtor_id
                )
            replies = replies + await self._escalate_on_signals(session, recorded, silenced) + question
            if replies:  # the buttons this turn offered: the only payloads the next message may send
                current.offered_options = commands.offered(replies)
            stored = []
            for reply in replies:
                row = await conversations_service.add_message(
                    session=session,
                    conversation=current,
                    direction=Direction.OUTBOUND,
                    text=reply.text,
                    locale=current.locale,
                    intent=reply.intent,
                )
                stored.append(replace(reply, message_id=row.id))
            if then is not None:
                await then(session)
            await session.commit()
        return stored

    async def _route(self, session: AsyncSession, conversation_id: str) -> tuple[str, bool, bool]:
        """Who answers: "bot", "agent", or "held" (queued after a crisis: the assistant stays
        quiet); whether a waiting note is due (at most every few minutes); and whether Rasa's
        tracker is still paused (handed back while Rasa was unreachable)."""
        conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
        if conversation is None:
            return State.BOT, False, False
        paused = conversation.rasa_paused
        if conversation.state == State.BOT:
            return State.BOT, False, paused
        if conversation.state == State.AGENT:
            return State.AGENT, False, paused
        case = await handoff_service.open_case(session=session, conversation_id=conversation_id)
        if case is None or not case.hold_bot:
            return State.BOT, False, paused  # queued: the assistant keeps helping while they wait
        last = await conversations_service.last_outbound_at(session=session, conversation_id=conversation_id)
        due = last is None or utcnow() - last >= timedelta(minutes=handoff_config.load().waiting_notice_minutes)
        return "held", due, paused

    async def resume_rasa(self, conversation_id: str) -> None:
        """Resume Rasa's tracker after a hand-back. When Rasa cannot be reached the conversation
        stays marked paused, and the next message to Rasa tries again first."""
        if await self.rasa.set_paused(sender=conversation_id, paused=False):
            async with self.sessionmaker() as session:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.state == State.BOT)
                    .values(rasa_paused=False)
                )
                await session.commit()

    async def _escalate_on_signals(self, session: AsyncSession, recorded: Recorded, silenced: bool) -> list[Reply]:
        """Vulnerability signals reach the queue first: self-harm at once (and the assistant holds
        back), other cues or high distress with the queue notice when the case is new."""
        if not (recorded.immediate_human or recorded.vulnerable):
            return []
        reason = Reason.SELF_HARM if recorded.immediate_human else Reason.VULNERABILITY
        escalation = await handoff_service.escalate(
            session=session,
            conversation_id=recorded.conversation_id,
            reason=reason,
            actor="gateway",
            detail={"message_id": recorded.message_id, "signal": recorded.signal_reason},
            hold_bot=recorded.immediate_human,
        )
        if not escalation.created or recorded.immediate_human or silenced:
            return []  # the crisis reply already says a person follows
        key, arguments = await handoff_service.notice(session=session, locale=recorded.locale)
        return [self.catalog.render(key, recorded.locale, None, arguments)]

    async def handle(self, *, channel: str, external_id: str, text: str, locale_hint: str | None = None) -> list[Reply]:
        """Record and answer at once (web chat: the reply is the HTTP/WebSocket response)."""
        message = InboundMessage(
            channel=channel, sender=external_id, text=text, received_at=utcnow(), locale_hint=locale_hint
        )
        began = time.perf_counter()
        recorded = await self.record(message=message)
        replies = await self.answer(recorded)
        metrics.turn_finished(channel, time.perf_counter() - began)  # the replies are the response
        return replies

    async def _ask_rasa(
        self, conversation_id: str, text: str, locale: str, channel: str, raise_when_down: bool = False
    ) -> tuple[list[Reply], str | None, float | None]:
        if not await self.rasa.action_server_up():
            log.warning("action_server.unavailable")
            if raise_when_down:
                raise BotUnavailable("action server down")
            return [self._local("utter_unavailable", locale)], None, None
        # Typed "/restart", "/intent{...}": words for NLU; a payload only when its button was offered.
        text = await commands.text_for_rasa(
            sessionmaker=self.sessionmaker, conversation_id=conversation_id, text=text, channel=channel
        )
        try:
            answer = await self.rasa.send(
                sender=conversation_id, text=text, metadata={"locale": locale, "channel": channel}
            )
        except RasaUnavailable as exc:
            log.warning("rasa.unavailable", extra={"error": str(exc)})
            if raise_when_down:
                raise BotUnavailable(str(exc)) from exc
            return [self._local("utter_unavailable", locale)], None, None
        metrics.nlu_confidence(answer.confidence)
        replies = list(answer.messages)
        if not replies or answer.failed_actions:
            # A custom action failed (Rasa carries on, often with "I didn't understand", or says
            # nothing): if the action server is down, that answer is not one; say so, or retry.
            alive, _ = await self.rasa.action_server_status()
            if not alive:
                log.warning("action_server.failed_during_turn", extra={"actions": list(answer.failed_actions)})
                if raise_when_down:
                    raise BotUnavailable("action server down during the turn")
                replies = [self._local("utter_unavailable", locale)]
            elif not replies:
                replies = [self._local("utter_default", locale)]
        return replies, answer.intent, answer.confidence
