"""Saying things in a conversation's own channel: unprompted notices (receipts, reminders), an
agent's replies, and delivering stored replies. Every message is stored before it is sent, and
nothing is sent to a channel where the person withdrew consent. Mixed into `Pipeline`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutboundContext, OutputChannel
from core import metrics
from core.config import CoreSettings
from core.database import READ_ONLY
from core.pii.cards import redact_card_numbers
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction, Message
from locales import Catalog
from locales.reply import Reply
from people.consent import service as consent_service

log = logging.getLogger(__name__)
# Work a caller adds to the delivery's own write (the inbox marks its event done there).
OnDelivered = Callable[[AsyncSession], Awaitable[None]]
# Channels where the assistant can write first, so consent decides whether it may.
CONSENT_CHANNELS = frozenset({"sms", "whatsapp", "telegram"})


class Outbound:
    """What `Pipeline` needs to send: its sessionmaker, texts, settings and channel outputs."""

    sessionmaker: async_sessionmaker[AsyncSession]
    catalog: Catalog
    settings: CoreSettings
    outputs: dict[str, OutputChannel]

    async def _reachable(self, session: AsyncSession, conversation_id: str) -> Conversation | None:
        """The conversation, unless the person withdrew consent on its channel (then None)."""
        conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
        if conversation is None:
            return None
        if conversation.channel in CONSENT_CHANNELS and await consent_service.opted_out(
            session=session, channel=conversation.channel, address=conversation.external_id
        ):
            return None
        return conversation

    async def notify(self, *, conversation_id: str, key: str, arguments: dict[str, Any]) -> Reply | None:
        """Say something unprompted in a conversation, in its language: stored, then sent —
        unless the person withdrew consent on that channel."""
        await self.catalog.refresh()  # admins' latest text edits
        async with self.sessionmaker() as session:
            conversation = await self._reachable(session, conversation_id)
            if conversation is None:
                return None
            locale = conversation.locale or self.settings.default_locale
            rendered = self.catalog.render(key, locale, None, arguments)
            message = await conversations_service.add_message(
                session=session,
                conversation=conversation,
                direction=Direction.OUTBOUND,
                text=rendered.text,
                locale=locale,
            )
            await session.commit()
            reply = replace(rendered, message_id=message.id)
        await self.deliver(conversation_id=conversation_id, replies=[reply])
        return reply

    async def say_as_agent(self, *, conversation_id: str, agent_id: int, text: str) -> Reply | None:
        """An agent's reply: stored under their name and sent through the debtor's own channel
        (None when the person withdrew consent on that channel)."""
        async with self.sessionmaker() as session:
            conversation = await self._reachable(session, conversation_id)
            if conversation is None:
                return None
            clean, _ = redact_card_numbers(text.strip())
            message = await conversations_service.add_message(
                session=session,
                conversation=conversation,
                direction=Direction.OUTBOUND,
                text=clean,
                locale=conversation.locale,
                agent_id=agent_id,
            )
            await session.commit()
            reply = Reply(text=clean, message_id=message.id)
        await self.deliver(conversation_id=conversation_id, replies=[reply])
        return reply

    async def deliver(self, *, conversation_id: str, replies: list[Reply], then: OnDelivered | None = None) -> None:
        """Send stored replies through the conversation's channel, each recorded (provider id,
        status) before the next is sent: a crash resends at most the reply in flight, not the
        whole answer. No transaction is held while the provider is called (SQLite has one
        writer). `then` runs in the write of the last reply (the inbox marks its event done
        there), so it costs no commit of its own."""
        route = await self._route_out(conversation_id) if replies else None
        async with self.sessionmaker() as session:
            for position, reply in enumerate(replies if route else []):
                assert route is not None
                sent = await self._send_one(*route, reply)
                last = position == len(replies) - 1
                if sent is not None and reply.message_id is not None:
                    message = await session.get(Message, reply.message_id)
                    if message is not None:
                        message.provider_message_id, message.delivery_status = sent
                if last and then is not None:
                    await then(session)
                    then = None
                if session.in_transaction():
                    await session.commit()
            if then is not None:  # nothing to send, or no channel to send it on
                await then(session)
                await session.commit()

    async def _route_out(self, conversation_id: str) -> tuple[OutputChannel, str, OutboundContext] | None:
        """The channel's output, the address on it and what it needs to know (locale, window)."""
        async with self.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
            conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
            if conversation is None:
                return None
            channel, address = conversation.channel, conversation.external_id
            context = OutboundContext(
                locale=conversation.locale or self.settings.default_locale, last_inbound_at=conversation.last_inbound_at
            )
        output = self.outputs.get(channel)
        if output is None:
            log.warning("channel.no_output", extra={"channel": channel})
            return None
        return output, address, context

    @staticmethod
    async def _send_one(
        output: OutputChannel, address: str, context: OutboundContext, reply: Reply
    ) -> tuple[str | None, str] | None:
        """Send one reply (maybe in parts); the last part's provider id and the status, or None."""
        try:
            deliveries = await output.send(to=address, reply=reply, context=context)
        except Exception:
            metrics.outbound(output.name, "failed")
            raise
        if not deliveries:
            return None
        failed = any(d.status == "failed" for d in deliveries)
        metrics.outbound(output.name, "failed" if failed else "sent")
        return deliveries[-1].provider_message_id, "failed" if failed else deliveries[-1].status

    async def unsent_replies(self, *, conversation_id: str, after: int) -> list[Reply]:
        """Replies stored after message `after` and never handed to the channel (a worker died
        between answering and sending). Their buttons were not stored: they go as plain text."""
        async with self.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)
            rows = await conversations_service.unsent_outbound(
                session=session, conversation_id=conversation_id, after=after
            )
        return [Reply(text=row.text, message_id=row.id) for row in rows]
