"""The hand-over state machine on SQLite and PostgreSQL, including races between agents."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation
from handoff import config as handoff_config
from handoff import queries
from handoff import service as handoff_service
from handoff.models import PRIORITY, Handoff, Reason, State, Status, Transition
from people.auth.models import Role, StaffUser
from people.debtors import service as debtors_service
from people.identity import service as identity_service


async def staff(session: AsyncSession, name: str = "Alex", role: Role = Role.AGENT, online: bool = False) -> StaffUser:
    user = StaffUser(
        username=f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.org",
        display_name=name,
        password_hash="not-used-here",
        role=role,
        last_seen_at=utcnow() if online else None,
    )
    session.add(user)
    await session.flush()
    return user


async def conversation(session: AsyncSession, channel: str = "webchat") -> Conversation:
    found = await conversations_service.get_or_create(session=session, channel=channel, external_id=uuid.uuid4().hex)
    await session.flush()
    return found


async def moves(session: AsyncSession, conversation_id: str) -> list[tuple[str, str, str]]:
    return [
        (t.from_state.value, t.to_state.value, t.actor)
        for t in await handoff_service.transitions(session=session, conversation_id=conversation_id)
    ]


async def test_escalation_queues_once_and_keeps_the_most_urgent_reason(session: AsyncSession) -> None:
    chat = await conversation(session)
    first = await handoff_service.escalate(
        session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot"
    )
    assert first.created and first.state is State.QUEUED
    assert chat.state == State.QUEUED
    again = await handoff_service.escalate(
        session=session, conversation_id=chat.id, reason=Reason.HARDSHIP, actor="bot", detail={"note": "job loss"}
    )
    assert not again.created
    assert again.handoff.id == first.handoff.id
    assert (again.handoff.reason, again.handoff.priority) == (Reason.HARDSHIP, PRIORITY[Reason.HARDSHIP])
    assert [r["reason"] for r in again.handoff.reasons] == ["request_human", "hardship"]
    assert again.handoff.reasons[1]["note"] == "job loss"
    # A less urgent reason later does not lower the priority.
    await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.FALLBACK, actor="bot")
    assert again.handoff.priority == PRIORITY[Reason.HARDSHIP]
    assert await moves(session, chat.id) == [("bot", "queued", "bot")]


async def test_full_cycle_bot_queued_agent_resolved_bot(session: AsyncSession) -> None:
    chat = await conversation(session)
    alex = await staff(session, "Alex")
    await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.DISPUTE, actor="bot")
    case = await handoff_service.take(session=session, conversation_id=chat.id, agent=alex)
    assert (chat.state, chat.agent_id, chat.rasa_paused) == (State.AGENT, alex.id, True)
    assert (case.status, case.agent_id) == (Status.ACTIVE, alex.id)
    assert case.taken_at is not None
    resolved = await handoff_service.resolve(
        session=session, conversation_id=chat.id, agent=alex, outcome="dispute_reviewed"
    )
    assert (resolved.status, resolved.outcome) == (Status.RESOLVED, "dispute_reviewed")
    assert (chat.state, chat.agent_id) == (State.BOT, None)
    who = f"agent:{alex.id}"
    assert await moves(session, chat.id) == [
        ("bot", "queued", "bot"),
        ("queued", "agent", who),
        ("agent", "resolved", who),
        ("resolved", "bot", who),
    ]
    # Every transition says when.
    assert all(t.created_at for t in await handoff_service.transitions(session=session, conversation_id=chat.id))
    # The next escalation is a new case.
    again = await handoff_service.escalate(
        session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot"
    )
    assert again.created and again.handoff.id != case.id


async def test_second_agent_cannot_take_or_write_or_resolve(session: AsyncSession) -> None:
    chat = await conversation(session)
    alex, sam = await staff(session, "Alex"), await staff(session, "Sam")
    await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot")
    await handoff_service.take(session=session, conversation_id=chat.id, agent=alex)
    with pytest.raises(handoff_service.HandoffError) as taken:
        await handoff_service.take(session=session, conversation_id=chat.id, agent=sam)
    assert (taken.value.code, taken.value.status) == ("already_taken", 409)
    for attempt in (
        handoff_service.ensure_owner(session=session, conversation_id=chat.id, agent=sam),
        handoff_service.resolve(session=session, conversation_id=chat.id, agent=sam, outcome="helped"),
        handoff_service.release(session=session, conversation_id=chat.id, agent=sam),
    ):
        with pytest.raises(handoff_service.HandoffError) as refused:
            await attempt
        assert refused.value.status == 403
    # An admin may step in.
    boss = await staff(session, "Boss", role=Role.ADMIN)
    await handoff_service.ensure_owner(session=session, conversation_id=chat.id, agent=boss)


async def test_release_returns_to_the_queue_for_another_agent(session: AsyncSession) -> None:
    chat = await conversation(session)
    alex, sam = await staff(session, "Alex"), await staff(session, "Sam")
    await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.LOCKOUT, actor="bot")
    await handoff_service.take(session=session, conversation_id=chat.id, agent=alex)
    case = await handoff_service.release(session=session, conversation_id=chat.id, agent=alex)
    assert (chat.state, case.status, case.agent_id) == (State.QUEUED, Status.QUEUED, None)
    await handoff_service.take(session=session, conversation_id=chat.id, agent=sam)
    assert chat.agent_id == sam.id


async def test_agent_can_take_over_from_the_bot_and_resolve_a_queued_case(session: AsyncSession) -> None:
    chat = await conversation(session)
    alex = await staff(session, "Alex")
    case = await handoff_service.take(session=session, conversation_id=chat.id, agent=alex)
    assert case.reason is Reason.AGENT and chat.state == State.AGENT
    other = await conversation(session)
    await handoff_service.escalate(session=session, conversation_id=other.id, reason=Reason.LOCKOUT, actor="bot")
    await handoff_service.resolve(session=session, conversation_id=other.id, agent=alex, outcome="callback_done")
    assert other.state == State.BOT
    assert await moves(session, other.id) == [
        ("bot", "queued", "bot"),
        ("queued", "resolved", f"agent:{alex.id}"),
        ("resolved", "bot", f"agent:{alex.id}"),
    ]


async def test_bad_transitions_are_refused(session: AsyncSession) -> None:
    chat = await conversation(session)
    alex = await staff(session, "Alex")
    with pytest.raises(handoff_service.HandoffError, match="not_in_handoff"):
        await handoff_service.resolve(session=session, conversation_id=chat.id, agent=alex, outcome="helped")
    with pytest.raises(handoff_service.HandoffError, match="not_with_agent"):
        await handoff_service.release(session=session, conversation_id=chat.id, agent=alex)
    await handoff_service.take(session=session, conversation_id=chat.id, agent=alex)
    with pytest.raises(handoff_service.HandoffError, match="unknown_outcome"):
        await handoff_service.resolve(session=session, conversation_id=chat.id, agent=alex, outcome="whatever")
    with pytest.raises(handoff_service.HandoffError, match="not_found"):
        await handoff_service.take(session=session, conversation_id="nope", agent=alex)


async def test_queue_is_ordered_by_priority_then_waiting_time(session: AsyncSession) -> None:
    now = utcnow()
    human, hardship, crisis = (
        await conversation(session),
        await conversation(session, "sms"),
        await conversation(session),
    )
    await handoff_service.escalate(
        session=session,
        conversation_id=human.id,
        reason=Reason.REQUEST_HUMAN,
        actor="bot",
        now=now - timedelta(hours=1),
    )
    await handoff_service.escalate(
        session=session,
        conversation_id=hardship.id,
        reason=Reason.HARDSHIP,
        actor="bot",
        now=now - timedelta(minutes=5),
    )
    await handoff_service.escalate(
        session=session, conversation_id=crisis.id, reason=Reason.SELF_HARM, actor="gateway", hold_bot=True, now=now
    )
    items = [i for i in (await queries.queue(session=session, now=now))["items"] if i["conversation_id"] in
             {human.id, hardship.id, crisis.id}]  # fmt: skip
    assert [i["reason"] for i in items] == ["self_harm", "hardship", "request_human"]
    assert [i["priority"] for i in items] == [0, 2, 5]
    assert items[2]["waiting_seconds"] == 3600
    assert items[1]["channel"] == "sms"


async def test_conversation_view_shows_the_debtor_only_once_verified(session: AsyncSession) -> None:
    chat = await conversation(session)
    await conversations_service.add_message(
        session=session, conversation=chat, direction=conversations_service.Direction.INBOUND, text="hello"
    )
    view = await queries.conversation(session=session, conversation_id=chat.id)
    assert view is not None and view["debtor"] is None
    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily is not None
    result = await identity_service.verify(
        session=session, conversation_id=chat.id, reference="UK-300552", date_of_birth=emily.date_of_birth
    )
    assert result.debtor is not None
    view = await queries.conversation(session=session, conversation_id=chat.id)
    assert view is not None and view["debtor"]["name"] == "Emily Carter"
    assert view["debtor"]["debts"] and not view["debtor"]["debts"][0]["paused"]
    # The agent sees whose rules apply apart from the language spoken.
    assert (view["debtor"]["locale"], view["debtor"]["country"], view["debtor"]["region"]) == ("en", "GB", None)
    assert view["messages"][0]["text"] == "hello"
    assert await queries.conversation(session=session, conversation_id="missing") is None


async def _say(session: AsyncSession, chat: Conversation, when: datetime, text: str = "hi") -> None:
    await conversations_service.add_message(
        session=session, conversation=chat, direction=conversations_service.Direction.INBOUND, text=text, now=when
    )


async def test_a_verification_from_months_ago_shows_no_profile(session: AsyncSession) -> None:
    """A recycled number: the previous owner verified in March; someone writes from it today."""
    now = utcnow()
    chat = await conversation(session, channel="sms")
    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily is not None
    months_ago = now - timedelta(days=90)
    await _say(session, chat, months_ago - timedelta(minutes=1), "UK-300552")
    await identity_service.verify(
        session=session, conversation_id=chat.id, reference="UK-300552", date_of_birth=emily.date_of_birth,
        now=months_ago,
    )  # fmt: skip
    await _say(session, chat, now - timedelta(minutes=1), "I need help")
    await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot")

    view = await queries.conversation(session=session, conversation_id=chat.id, now=now)
    assert view is not None and view["debtor"] is None
    assert view["conversation"]["verified"] is False and view["conversation"]["verified_at"] is None
    assert view["conversation"]["last_verified_at"] == months_ago.isoformat()
    [item] = [i for i in (await queries.queue(session=session, now=now))["items"] if i["conversation_id"] == chat.id]
    assert (item["verified"], item["debtor_name"]) == (False, None)


@pytest.mark.parametrize(
    ("channel", "silence", "current"),
    [("sms", 50, True), ("sms", 70, False), ("webchat", 10, True), ("webchat", 20, False)],
)
async def test_a_verification_is_current_until_the_person_falls_silent_too_long(
    session: AsyncSession, channel: str, silence: int, current: bool
) -> None:
    """config/handoff.yml: 60 idle minutes (Rasa's session expiry), 15 on web chat; any gap counts,
    also one between two later messages."""
    now = utcnow()
    chat = await conversation(session, channel=channel)
    anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
    assert anna is not None
    verified_at = now - timedelta(minutes=silence + 5)
    await identity_service.verify(
        session=session, conversation_id=chat.id, reference="SE-100234", date_of_birth=anna.date_of_birth,
        now=verified_at,
    )  # fmt: skip
    await _say(session, chat, verified_at + timedelta(minutes=2))
    await _say(session, chat, now - timedelta(minutes=3))  # the silence lies between these two
    view = await queries.conversation(session=session, conversation_id=chat.id, now=now)
    assert view is not None and view["conversation"]["verified"] is current
    assert (view["debtor"] is not None) is current
    assert view["conversation"]["verified_at"] == (verified_at.isoformat() if current else None)


async def test_notice_depends_on_presence_and_hours(session: AsyncSession) -> None:
    monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    config = handoff_config.load()
    # Agents seen long ago do not count as online.
    await staff(session, "Away")
    key, arguments = await handoff_service.notice(session=session, locale="en", now=monday_noon)
    assert key == "utter_handoff_offline"
    assert datetime.fromisoformat(arguments["until"]) == monday_noon + timedelta(minutes=config.reply_minutes_offline)
    user = await staff(session, "Here")
    user.last_seen_at = monday_noon
    key, arguments = await handoff_service.notice(session=session, locale="en", now=monday_noon)
    assert (key, arguments) == ("utter_handoff_queued", {"minutes": config.reply_minutes_online})
    # Saturday evening in Stockholm: next opening is Monday 08:00 local.
    saturday = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    user.last_seen_at = saturday
    key, arguments = await handoff_service.notice(session=session, locale="sv", now=saturday)
    assert key == "utter_handoff_offline" and arguments["timezone"] == "Europe/Stockholm"
    expected = datetime(2026, 11, 30, 7, 0, tzinfo=UTC) + timedelta(minutes=config.reply_minutes_offline)
    assert datetime.fromisoformat(arguments["until"]) == expected


def test_working_hours() -> None:
    hours = handoff_config.load().hours_for("de")
    assert hours.is_open(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # Tuesday 10:00 Berlin
    assert not hours.is_open(datetime(2026, 11, 24, 17, 30, tzinfo=UTC))  # 18:30 Berlin
    assert hours.next_open(datetime(2026, 11, 24, 17, 30, tzinfo=UTC)) == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    friday_night = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert hours.next_open(friday_night) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert handoff_config.load().hours_for("xx") is not None  # unknown locale: the first configured


async def _take(maker: async_sessionmaker[AsyncSession], conversation_id: str, agent_id: int) -> str:
    async with maker() as session:
        agent = await session.get(StaffUser, agent_id)
        assert agent is not None
        try:
            await handoff_service.take(session=session, conversation_id=conversation_id, agent=agent)
            await session.commit()
            return "taken"
        except handoff_service.HandoffError as exc:
            await session.rollback()
            return exc.code


async def test_two_agents_taking_at_once_only_one_wins(committed: async_sessionmaker[AsyncSession]) -> None:
    async with committed() as session:
        chat = await conversation(session)
        alex, sam = await staff(session, "Alex"), await staff(session, "Sam")
        await handoff_service.escalate(session=session, conversation_id=chat.id, reason=Reason.HARDSHIP, actor="bot")
        await session.commit()
        ids = (chat.id, alex.id, sam.id)
    for _ in range(5):
        outcomes = await asyncio.gather(_take(committed, ids[0], ids[1]), _take(committed, ids[0], ids[2]))
        assert sorted(outcomes) == ["already_taken", "taken"]
        async with committed() as session:
            found = await session.get(Conversation, ids[0])
            assert found is not None and found.state == State.AGENT
            owner = await session.get(StaffUser, found.agent_id)
            assert owner is not None
            await handoff_service.release(session=session, conversation_id=ids[0], agent=owner)
            await session.commit()
    async with committed() as session:
        taken = await session.scalar(
            select(func.count())
            .select_from(Transition)
            .where(Transition.conversation_id == ids[0], Transition.to_state == State.AGENT)
        )
        assert taken == 5
        cases = await session.scalar(select(func.count()).select_from(Handoff).where(Handoff.conversation_id == ids[0]))
        assert cases == 1


async def _escalate(maker: async_sessionmaker[AsyncSession], conversation_id: str, reason: Reason) -> bool:
    async with maker() as session:
        escalation = await handoff_service.escalate(
            session=session, conversation_id=conversation_id, reason=reason, actor="bot"
        )
        await session.commit()
        return escalation.created


async def test_concurrent_escalations_open_one_case(committed: async_sessionmaker[AsyncSession]) -> None:
    async with committed() as session:
        chat = await conversation(session)
        await session.commit()
    created = await asyncio.gather(
        _escalate(committed, chat.id, Reason.REQUEST_HUMAN), _escalate(committed, chat.id, Reason.VULNERABILITY)
    )
    assert sorted(created) == [False, True]
    async with committed() as session:
        cases = list((await session.scalars(select(Handoff).where(Handoff.conversation_id == chat.id))).all())
        assert len(cases) == 1 and cases[0].priority == PRIORITY[Reason.VULNERABILITY]
