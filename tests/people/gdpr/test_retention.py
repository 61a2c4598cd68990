"""Transcript retention: old texts are redacted after the period of the debtor's jurisdiction (not the
chat's language), recent ones and open cases are not; running the job again changes nothing; the
change is in the audit log."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation, Direction, Message
from engine.conversations.rasa_client import RasaClient
from engine.conversations.tracker_store import RasaTrackerStore
from engine.inbox.models import InboundEvent, InboxStatus
from handoff.models import Handoff, Reason
from money.disputes.models import Dispute, DisputeReason
from people.audit.models import AuditEvent
from people.debtors.models import Debtor
from people.gdpr import retention
from people.gdpr.config import parse
from tests.engine.conversations.test_tracker_store import add_events, create_rasa_events, senders
from tests.people.gdpr.people import build
from tests.people.gdpr.test_views import FakeRasa

CONFIG = parse(
    {
        "transcript_retention_days": 30,
        "countries": {
            "GB": {"transcript_retention_days": 365, "bookkeeping_years": 6},
            "SE": {"transcript_retention_days": 90, "bookkeeping_years": 7},
        },
    }
)


async def debtor_in(session: AsyncSession, country: str | None, locale: str) -> int:
    debtor = Debtor(
        reference=f"RT-{uuid.uuid4().hex[:10]}", name="Rita Retention", date_of_birth=date(1980, 1, 1),
        locale=locale, timezone="Europe/Stockholm", country=country,
    )  # fmt: skip
    session.add(debtor)
    await session.flush()
    return debtor.id


async def chat(
    session: AsyncSession, locale: str | None, *ages_in_days: int, debtor_id: int | None = None
) -> list[Message]:
    conversation = Conversation(
        channel="sms", external_id=f"+4670{uuid.uuid4().int % 10**8:08d}", locale=locale, debtor_id=debtor_id
    )
    session.add(conversation)
    await session.flush()
    now = utcnow()
    messages = [
        Message(
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            channel="sms",
            text=f"said {age} days ago {uuid.uuid4().hex[:6]}",
            signals={"cues": ["bereavement"]},
            distress_score=0.4,
            created_at=now - timedelta(days=age),
        )
        for age in ages_in_days
    ]
    session.add_all(messages)
    await session.flush()
    return messages


async def texts(session: AsyncSession, messages: list[Message]) -> list[str]:
    found = await session.execute(select(Message.id, Message.text).where(Message.id.in_([m.id for m in messages])))
    by_id = dict(found.tuples().all())
    return [by_id[m.id] for m in messages]


async def test_expired_texts_are_redacted_per_jurisdiction_and_only_once(session: AsyncSession) -> None:
    english = await chat(session, "en", 400, 200, debtor_id=await debtor_in(session, "GB", "en"))
    # A Swedish case chatting in English: Sweden's period, not the language's.
    swedish = await chat(session, "en", 100, 60, debtor_id=await debtor_in(session, "SE", "sv"))
    # A row from before the country column: the jurisdiction its locale stood for (sv: Sweden).
    legacy = await chat(session, "en", 100, 60, debtor_id=await debtor_in(session, None, "sv"))
    # Nobody identified: the fallback, whatever the language.
    unknown = await chat(session, "en", 31, 29)
    inbox = InboundEvent(
        channel="sms", provider_message_id=f"SM{uuid.uuid4().hex}", sender="+46700000009",
        conversation_id=unknown[0].conversation_id, text="old inbound", status=InboxStatus.DONE,
        received_at=utcnow() - timedelta(days=40),
    )  # fmt: skip
    session.add(inbox)
    await session.flush()

    changed = await retention.run(session=session, config=CONFIG)
    assert changed == {"messages": 4, "inbound_events": 1}
    assert await texts(session, english) == ["[redacted]", english[1].text]
    assert await texts(session, swedish) == ["[redacted]", swedish[1].text]
    assert await texts(session, legacy) == ["[redacted]", legacy[1].text]
    assert await texts(session, unknown) == ["[redacted]", unknown[1].text]
    old = await session.get(Message, english[0].id)
    assert old is not None
    await session.refresh(old)
    assert old.signals is None and old.distress_score is None and old.direction is Direction.INBOUND
    await session.refresh(inbox)
    assert inbox.text == "[redacted]"
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "gdpr.retention").order_by(AuditEvent.id.desc())
    )
    assert event is not None and event.actor_id is None and event.detail == changed

    assert await retention.run(session=session, config=CONFIG) == {"messages": 0, "inbound_events": 0}


async def test_open_cases_keep_their_transcripts(session: AsyncSession) -> None:
    queued = await chat(session, "en", 400)
    handoff = Handoff(conversation_id=queued[0].conversation_id, reason=Reason.REQUEST_HUMAN, priority=5)
    # A disputing debtor: every one of their conversations is evidence, not only the dispute's own.
    person = await build(session, dispute_open=True)
    theirs = Message(
        conversation_id=person.conversation_ids[2], direction=Direction.INBOUND, channel="telegram",
        text="about the disputed bill", created_at=utcnow() - timedelta(days=500),
    )  # fmt: skip
    session.add_all([handoff, theirs])
    await session.flush()
    web = await session.get(Conversation, person.conversation_ids[0])
    assert web is not None and web.debtor_id == person.debtor_id
    chat_of_debtor = await session.get(Conversation, person.conversation_ids[2])
    assert chat_of_debtor is not None
    chat_of_debtor.debtor_id = person.debtor_id
    await session.flush()
    assert (
        await session.scalar(select(Dispute.reason).where(Dispute.debtor_id == person.debtor_id))
        is DisputeReason.WRONG_AMOUNT
    )

    await retention.run(session=session, config=CONFIG)
    assert await texts(session, queued) == [queued[0].text]
    assert await texts(session, [theirs]) == ["about the disputed bill"]


async def old_chat(session: AsyncSession, *, begun_days: int, message_days: list[int], state: str = "bot") -> str:
    now = utcnow()
    conversation = Conversation(
        channel="webchat", external_id=uuid.uuid4().hex, locale="en", state=state,
        created_at=now - timedelta(days=begun_days), last_message_at=now - timedelta(days=min(message_days)),
    )  # fmt: skip
    session.add(conversation)
    await session.flush()
    session.add_all(
        Message(
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            channel="webchat",
            text=f"UK-300552 {age}",
            created_at=now - timedelta(days=age),
        )
        for age in message_days
    )
    await session.flush()
    return conversation.id


async def test_rasa_forgets_expired_conversations_too(session: AsyncSession, tmp_path: Path) -> None:
    """SQL tracker store: events older than the cutoff go (every run, so a failed run is made good);
    in memory: trackers of conversations idle since before the cutoff are emptied once."""
    idle = await old_chat(session, begun_days=400, message_days=[400])
    ongoing = await old_chat(session, begun_days=400, message_days=[400, 1])
    recent = await old_chat(session, begun_days=10, message_days=[10])
    with_agent = await old_chat(session, begun_days=400, message_days=[400], state="agent")
    store = f"sqlite:///{tmp_path / 'rasa-trackers.db'}"
    await create_rasa_events(store)
    day = 86400.0
    for conversation_id, ages in ((idle, [400]), (ongoing, [400, 1]), (recent, [10]), (with_agent, [400])):
        for age in ages:
            await add_events(store, conversation_id, texts=["UK-300552", "21/07/1992"], at=time.time() - age * day)
    fake = FakeRasa()
    try:
        async with httpx.AsyncClient() as http:
            rasa = RasaClient(
                rasa_url=fake.url, action_server_url=fake.url, http=http, timeout=5, health_timeout=1,
                tracker_store=RasaTrackerStore(store),
            )  # fmt: skip
            changed = await retention.run(session=session, config=CONFIG, rasa=rasa)
            assert changed["rasa_events_deleted"] == 4 and changed["rasa_failed"] == 0
            assert await senders(store) == {ongoing: 2, recent: 2, with_agent: 2}
            reset = {path.split("/")[2] for path, _ in fake.puts}
            assert idle in reset and not reset & {ongoing, recent, with_agent}

            fake.puts.clear()
            again = await retention.run(session=session, config=CONFIG, rasa=rasa)
            assert again["rasa_events_deleted"] == 0 and idle not in {p.split("/")[2] for p, _ in fake.puts}
    finally:
        fake.close()
