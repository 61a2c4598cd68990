"""Delivery reports reach the transcript through the conversations service (the status webhook
only parses them: no view writes another feature's tables)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from engine.conversations.models import Direction, Message


async def test_a_delivery_report_lands_on_the_message_it_describes(session: AsyncSession) -> None:
    conversation = await conversations_service.get_or_create(session=session, channel="sms", external_id="+46700000931")
    sent = await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.OUTBOUND, text="Hej!", locale="sv"
    )
    other = await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.OUTBOUND, text="Tack!", locale="sv"
    )
    sent.provider_message_id, other.provider_message_id = "SM" + "a" * 32, "SM" + "b" * 32
    await session.flush()

    matched = await conversations_service.record_delivery(
        session=session, provider_message_id="SM" + "a" * 32, status="undelivered:30007" + "x" * 40
    )
    unknown = await conversations_service.record_delivery(
        session=session, provider_message_id="SM" + "c" * 32, status="delivered"
    )

    assert (matched, unknown) == (1, 0)
    status = select(Message.delivery_status).where(Message.id == sent.id)
    assert await session.scalar(status) == ("undelivered:30007" + "x" * 40)[:32]
    assert await session.scalar(select(Message.delivery_status).where(Message.id == other.id)) != "delivered"
