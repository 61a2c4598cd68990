from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from engine.conversations.models import Direction


async def test_one_conversation_per_channel_address(session: AsyncSession) -> None:
    a = await conversations_service.get_or_create(session=session, channel="webchat", external_id="abc-12345")
    b = await conversations_service.get_or_create(session=session, channel="webchat", external_id="abc-12345")
    c = await conversations_service.get_or_create(session=session, channel="sms", external_id="abc-12345")
    assert a.id == b.id != c.id


async def test_transcript_keeps_language_and_intent(session: AsyncSession) -> None:
    conversation = await conversations_service.get_or_create(session=session, channel="webchat", external_id="t-1")
    await conversations_service.add_message(
        session=session,
        conversation=conversation,
        direction=Direction.INBOUND,
        text="hur mycket är skulden",
        locale="sv",
        detected_language="sv",
        language_confidence=0.99,
        intent="check_balance",
        confidence=0.91,
    )
    await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.OUTBOUND, text="Hej!", locale="sv"
    )
    messages = await conversations_service.transcript(session=session, conversation_id=conversation.id)
    assert [(m.direction, m.channel, m.detected_language, m.intent) for m in messages] == [
        (Direction.INBOUND, "webchat", "sv", "check_balance"),
        (Direction.OUTBOUND, "webchat", None, None),
    ]


async def test_explicit_locale_is_locked(session: AsyncSession) -> None:
    conversation = await conversations_service.ensure(session=session, conversation_id="f" * 32)
    assert conversation.channel == "rasa"
    await conversations_service.set_locale(session=session, conversation_id=conversation.id, locale="de", locked=True)
    again = await conversations_service.get(session=session, conversation_id=conversation.id)
    assert again and (again.locale, again.locale_locked) == ("de", True)


async def test_language_follows_the_debtor_after_verification(session: AsyncSession) -> None:
    from people.debtors import service as debtors_service

    jonas = await debtors_service.get_by_reference(session=session, reference="DE-200871")
    assert jonas and jonas.locale == "de"
    # Only a browser hint and short replies chose English: the verified person gets German.
    guessed = await conversations_service.get_or_create(session=session, channel="webchat", external_id="follow-1")
    guessed.locale = "en"
    await conversations_service.add_message(
        session=session, conversation=guessed, direction=Direction.INBOUND, text="ok", locale="en"
    )
    await conversations_service.mark_verified(session=session, conversation_id=guessed.id, debtor=jonas)
    assert guessed.locale == "de"
    # Someone writing Swedish keeps Swedish, and it becomes their preference for other channels.
    written = await conversations_service.get_or_create(session=session, channel="sms", external_id="+4915112345678")
    written.locale = "sv"
    await conversations_service.add_message(
        session=session,
        conversation=written,
        direction=Direction.INBOUND,
        text="hur mycket är min skuld",
        locale="sv",
        detected_language="sv",
    )
    await conversations_service.mark_verified(session=session, conversation_id=written.id, debtor=jonas)
    assert written.locale == "sv" and jonas.locale == "sv"
    earlier = await conversations_service.previous_contact(
        session=session, debtor_id=jonas.id, conversation_id=written.id
    )
    assert earlier is not None and earlier.id == guessed.id


async def test_following_the_language_never_changes_the_jurisdiction(session: AsyncSession) -> None:
    """Nothing a person says changes whose law their case is under: writing English (or choosing it
    explicitly) makes English their preference, while country, region, time zone and so every rule
    stay German."""
    import uuid
    from datetime import date

    from money.policies.service import policy_of
    from people.debtors.models import Debtor
    from people.jurisdiction import service as jurisdiction

    jonas = Debtor(
        reference=f"DE-{uuid.uuid4().int % 10**6:06d}", name="Jonas Sprache", date_of_birth=date(1979, 11, 3),
        locale="de", timezone="Europe/Berlin", country="DE", region="BY",
    )  # fmt: skip
    session.add(jonas)
    await session.flush()
    rules = (jurisdiction.of(jonas), policy_of(jonas))
    for locked, text, detected in ((False, "how much do I owe you please", "en"), (True, "/choose_language", None)):
        chat = await conversations_service.get_or_create(
            session=session, channel="sms", external_id=f"+44770090{uuid.uuid4().int % 10**4:04d}"
        )
        chat.locale, chat.locale_locked = "en", locked
        await conversations_service.add_message(
            session=session, conversation=chat, direction=Direction.INBOUND, text=text, locale="en",
            detected_language=detected,
        )  # fmt: skip
        await conversations_service.mark_verified(session=session, conversation_id=chat.id, debtor=jonas)
        assert jonas.locale == "en"
        assert (jonas.country, jonas.region, jonas.timezone) == ("DE", "BY", "Europe/Berlin")
        assert (jurisdiction.of(jonas), policy_of(jonas)) == rules
        assert date(2027, 1, 6) in jurisdiction.holidays_of(jonas)
        jonas.locale = "de"
