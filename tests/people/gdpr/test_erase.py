"""Right to erasure: personal data gone from every table (searched in a dump of the whole
database), bookkeeping records intact, opt-outs still honoured, idempotent, no verification."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Base
from channels import sessions
from channels.models import WebchatSession
from core.database import utcnow
from engine.conversations.models import Conversation
from people.auth import service as auth_service
from people.auth.models import Role, StaffUser
from people.consent import service as consent_service
from people.consent.models import Consent
from people.debtors.models import Debtor
from people.gdpr import erase, suppression
from people.gdpr.config import load
from people.gdpr.models import ErasureRequest, ErasureStatus
from people.identity import service as identity_service
from people.identity.dates import parse_reference
from people.identity.service import Outcome
from tests.people.gdpr.people import Person, build


async def admin(session: AsyncSession) -> StaffUser:
    return await auth_service.create_user(
        session=session,
        username=f"dpo-{uuid.uuid4().hex[:6]}@example.org",
        password="a long enough password",
        display_name="Data Protection",
        role=Role.ADMIN,
    )


async def dump(session: AsyncSession) -> str:
    """Every row of every table, as text."""
    parts = []
    for found in Base.metadata.sorted_tables:
        for row in (await session.execute(select(found))).all():
            parts.append(f"{found.name}: " + " | ".join(str(value) for value in row))
    return "\n".join(parts)


async def money(session: AsyncSession, person: Person) -> list[Any]:
    """The debtor's bookkeeping records, as the law wants them kept."""
    t = Base.metadata.tables
    entries = t["ledger_entries"]
    debts = select(t["debts"].c.id).where(t["debts"].c.debtor_id == person.debtor_id)
    rows = await session.execute(
        select(entries)
        .where((entries.c.debtor_id == person.debtor_id) | entries.c.debt_id.in_(debts))
        .order_by(entries.c.id)
    )
    payments = t["payments"]
    kept = await session.execute(
        select(*(c for c in payments.c if c.name != "checkout_url")).where(payments.c.debtor_id == person.debtor_id)
    )
    transactions = await session.execute(select(t["ledger_transactions"]).order_by(t["ledger_transactions"].c.id))
    return [rows.all(), kept.all(), transactions.all()]


async def test_erasure_removes_personal_data_everywhere_and_keeps_the_books(session: AsyncSession) -> None:
    person = await build(session)
    staff = await admin(session)
    books = await money(session, person)
    before = await dump(session)
    assert all(value in before for value in person.pii)

    request, created = await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=staff, reason="Debtor asked by email", config=load()
    )
    await session.commit()

    assert created and request.status is ErasureStatus.COMPLETED and request.blockers == []
    after = await dump(session)
    left = [value for value in person.pii if value in after]
    assert left == [], f"personal data left after erasure: {left}"
    assert await money(session, person) == books
    assert request.retain_until is not None and request.retain_until.year == utcnow().year + 6  # en: UK, 6 years
    assert request.reference_hash == suppression.keyed_hash("reference", person.reference)
    assert set(request.detail["conversations"]) == set(person.conversation_ids)
    rows = request.detail["rows"]
    assert rows["messages"] == 3 and rows["consents"] == 2 and rows["channel_identities"] == 1

    debtor = await session.get(Debtor, person.debtor_id)
    assert debtor is not None and debtor.name == "erased" and debtor.phone is None and debtor.email is None
    assert parse_reference(debtor.reference) is None  # no chat message can ever name this reference
    chats = (await session.scalars(select(Conversation).where(Conversation.id.in_(person.conversation_ids)))).all()
    assert {c.external_id for c in chats} == {f"erased:{c.id}" for c in chats}


async def test_an_erased_debtor_cannot_be_verified(session: AsyncSession) -> None:
    person = await build(session)
    await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=await admin(session), reason="asked", config=load()
    )
    chat = Conversation(channel="webchat", external_id=f"after-{uuid.uuid4().hex}")
    session.add(chat)
    await session.flush()
    result = await identity_service.verify(
        session=session, conversation_id=chat.id, reference=person.reference, date_of_birth=person.date_of_birth
    )
    assert result.outcome is Outcome.FAILED


async def test_erasure_ends_the_web_chat_sessions_still_open_on_the_debtors_chats(session: AsyncSession) -> None:
    person = await build(session)
    web = await session.scalar(
        select(Conversation).where(Conversation.channel == "webchat", Conversation.debtor_id == person.debtor_id)
    )
    assert web is not None
    lifetime = sessions.Lifetime.of(idle_minutes=60, max_hours=24)
    theirs = await sessions.issue(session=session, lifetime=lifetime)
    row = await session.scalar(select(WebchatSession).where(WebchatSession.token_hash == sessions.digest(theirs)))
    assert row is not None
    row.conversation_key = web.external_id  # the browser tab the person verified in is still open
    someone_else = await sessions.issue(session=session, lifetime=lifetime)
    await session.flush()

    request, _ = await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=await admin(session), reason="asked", config=load()
    )

    assert request.detail["webchat_sessions_ended"] == 1
    with pytest.raises(sessions.SessionRefused):
        await sessions.resolve(session=session, session_id=theirs, lifetime=lifetime)
    assert await sessions.resolve(session=session, session_id=someone_else, lifetime=lifetime)


async def test_erasure_is_idempotent(session: AsyncSession) -> None:
    person = await build(session)
    staff = await admin(session)
    first, created = await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=staff, reason="asked", config=load()
    )
    state = await dump(session)
    again, created_again = await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=staff, reason="asked twice", config=load()
    )
    assert created and not created_again and again.id == first.id
    assert await dump(session) == state


async def test_opt_outs_survive_erasure_as_keyed_hashes(session: AsyncSession) -> None:
    person = await build(session)
    await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=await admin(session), reason="asked", config=load()
    )
    # The SMS number had said STOP: still suppressed. The Telegram chat had said START: not.
    assert await suppression.suppressed(session=session, channel="sms", address=person.phone)
    assert not await suppression.suppressed(session=session, channel="telegram", address=person.telegram)
    assert not await suppression.suppressed(session=session, channel="whatsapp", address=person.phone)
    remaining = await session.scalars(select(Consent).where(Consent.address.in_([person.phone, person.telegram])))
    assert remaining.all() == []


async def test_stop_still_applies_through_the_consent_service(session: AsyncSession) -> None:
    """What the pipeline and the reminders ask before sending (consent.service.opted_out)."""
    person = await build(session)
    await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=await admin(session), reason="asked", config=load()
    )
    assert await consent_service.opted_out(session=session, channel="sms", address=person.phone)
    assert not await consent_service.opted_out(session=session, channel="telegram", address=person.telegram)
    # A newer explicit START from the number counts over the erased opt-out.
    await consent_service.set_opted_out(
        session=session, channel="sms", address=person.phone, opted_out=False, source="keyword:START"
    )
    assert not await consent_service.opted_out(session=session, channel="sms", address=person.phone)


async def test_open_cases_block_erasure_until_closed(session: AsyncSession) -> None:
    person = await build(session, dispute_open=True)
    chat = await session.get(Conversation, person.conversation_ids[1])
    assert chat is not None
    chat.state = "queued"
    await session.flush()
    request, created = await erase.erase(
        session=session, debtor_id=person.debtor_id, staff=await admin(session), reason="asked", config=load()
    )
    assert created and request.status is ErasureStatus.BLOCKED
    assert request.blockers == ["open_dispute", "open_handoff"]
    debtor = await session.get(Debtor, person.debtor_id)
    assert debtor is not None and debtor.name == person.name  # nothing was changed


async def test_two_admins_erasing_at_once_make_one_erasure(committed: async_sessionmaker[AsyncSession]) -> None:
    async with committed() as session:
        person = await build(session)
        staff = [await admin(session), await admin(session)]
        await session.commit()

    async def run(user: StaffUser) -> bool:
        async with committed() as session:
            _, created = await erase.erase(
                session=session, debtor_id=person.debtor_id, staff=user, reason="asked", config=load()
            )
            await session.commit()
            return created

    results = await asyncio.gather(*(run(user) for user in staff))
    assert sorted(results) == [False, True]
    async with committed() as session:
        requests = await session.scalars(select(ErasureRequest).where(ErasureRequest.debtor_id == person.debtor_id))
        assert len(requests.all()) == 1
