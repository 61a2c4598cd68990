"""The worker's drain across a crash: a message Rasa has answered is never sent to Rasa again;
after a restart only its unsent replies go out (the dialogue does not move on twice)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.base import InboundMessage
from core.database import utcnow
from engine.inbox import service as inbox_service
from engine.inbox.models import InboundEvent, InboxStatus
from tests.pipeline_harness import REPLY, Harness, RecordingOutput


async def _accept(harness: Harness, sender: str, text: str) -> InboundEvent:
    message = InboundMessage(
        channel="sms", sender=sender, text=text, received_at=utcnow(), provider_message_id=f"SM-drain-{sender}"
    )
    async with harness.pipeline.sessionmaker() as session:
        event = await inbox_service.accept(session=session, message=message)
        await session.commit()
    assert event is not None
    return event


async def _status(harness: Harness, event_id: int) -> InboxStatus:
    async with harness.pipeline.sessionmaker() as session:
        status = await session.scalar(select(InboundEvent.status).where(InboundEvent.id == event_id))
    assert status is not None
    return status


def test_a_worker_killed_after_rasa_answered_sends_the_replies_once_and_asks_rasa_once(harness: Harness) -> None:
    output = harness.pipeline.outputs["sms"]
    assert isinstance(output, RecordingOutput)
    event = harness.run(_accept(harness, "+46709555001", "I want to pay my debt"))
    asked = len(harness.rasa.webhook_bodies(0))
    output.crash = True
    try:
        with pytest.raises(SystemExit):
            harness.run(inbox_service.drain(pipeline=harness.pipeline, conversation_id=event.conversation_id))
    finally:
        output.crash = False
    assert harness.run(_status(harness, event.id)) == InboxStatus.ANSWERED  # answered and stored, not sent
    assert len(harness.rasa.webhook_bodies(0)) == asked + 1
    sent = len(output.sent)

    # The restarted worker: the stored reply goes out, Rasa is not asked again.
    harness.run(inbox_service.drain(pipeline=harness.pipeline, conversation_id=event.conversation_id))
    assert harness.run(_status(harness, event.id)) == InboxStatus.DONE
    assert len(harness.rasa.webhook_bodies(0)) == asked + 1
    assert output.sent[sent:] == [REPLY]

    # Nothing is left to send: a second restart sends nothing.
    harness.run(inbox_service.drain(pipeline=harness.pipeline, conversation_id=event.conversation_id))
    assert output.sent[sent:] == [REPLY]


def test_the_sweep_finds_answered_events_too(harness: Harness) -> None:
    output = harness.pipeline.outputs["sms"]
    assert isinstance(output, RecordingOutput)
    event = harness.run(_accept(harness, "+46709555002", "hello"))
    output.crash = True
    try:
        with pytest.raises(SystemExit):
            harness.run(inbox_service.drain(pipeline=harness.pipeline, conversation_id=event.conversation_id))
    finally:
        output.crash = False

    async def due() -> list[str]:
        async with harness.pipeline.sessionmaker() as session:
            return await inbox_service.due_conversations(session=session)

    assert event.conversation_id in harness.run(due())
