"""The bot reads an imported reference (the agency's own format) in any spelling: in the form,
out of the blue, and verifies by it; ordinary words are never taken for a reference."""

from __future__ import annotations

import uuid

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.verification import ActionHandleInform, ActionVerifyIdentity, ValidateVerifyIdentityForm
from people.debtors.references import reference_key
from tests.bot.actions.conftest import make_tracker, responses, slots
from tests.people.identity.imported import imported

DOMAIN: dict = {}
ASKED = {"name": "verify_identity_form"}


async def test_the_form_takes_the_whole_message_as_the_reference(session: AsyncSession) -> None:
    placed = await imported(session)
    await session.commit()
    key, (head, year, number) = reference_key(placed.reference), placed.reference.split("/")
    form = ValidateVerifyIdentityForm()
    for typed in (f"my ref is {placed.reference.lower()}", f"{head}{year} {number}", f"{head}-{year}-{number}"):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(uuid.uuid4().hex, text=typed, intent="inform", active_loop=ASKED)
        assert await form.validate_reference(typed, dispatcher, tracker, DOMAIN) == {"reference": key}
        assert dispatcher.messages == []


async def test_an_entity_the_nlu_cut_short_is_read_from_the_whole_message(session: AsyncSession) -> None:
    placed = await imported(session, reference=f"AB-{uuid.uuid4().int % 10**6:06d}/77")
    await session.commit()
    typed = placed.reference.replace("/", " ")
    tracker = make_tracker(uuid.uuid4().hex, text=f"it's {typed}", intent="inform", active_loop=ASKED)
    result = await ValidateVerifyIdentityForm().validate_reference(
        placed.reference[:9], CollectingDispatcher(), tracker, DOMAIN
    )
    assert result == {"reference": reference_key(placed.reference)}


async def test_words_are_not_references() -> None:
    form = ValidateVerifyIdentityForm()
    for typed in ("I don't have it here", "invoice", "12.04.1985"):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(uuid.uuid4().hex, text=typed, intent="inform", active_loop=ASKED)
        assert await form.validate_reference(typed, dispatcher, tracker, DOMAIN) == {"reference": None}
        assert responses(dispatcher) == ["utter_reference_invalid"]


async def test_out_of_the_blue_an_imported_reference_prefills_the_form_then_verifies(session: AsyncSession) -> None:
    placed = await imported(session)
    await session.commit()
    sid = uuid.uuid4().hex
    typed = f"hi, ref {placed.reference.replace('/', '-').lower()} born 9 March 1984"
    events = await ActionHandleInform().run(
        CollectingDispatcher(), make_tracker(sid, text=typed, intent="inform"), DOMAIN
    )
    filled = slots(events)
    assert filled["reference"] == reference_key(placed.reference) and filled["dob"] == "1984-03-09"
    dispatcher = CollectingDispatcher()
    events = await ActionVerifyIdentity().run(
        dispatcher, make_tracker(sid, slots={"reference": filled["reference"], "dob": filled["dob"]}), DOMAIN
    )
    assert responses(dispatcher)[0] == "utter_verified" and dispatcher.messages[0]["name"] == "Mara"
    assert SlotSet("verified", True) in events


async def test_a_date_alone_out_of_the_blue_fills_no_reference() -> None:
    events = await ActionHandleInform().run(
        CollectingDispatcher(), make_tracker(uuid.uuid4().hex, text="born 12 april 1985", intent="inform"), DOMAIN
    )
    assert "reference" not in slots(events) and slots(events)["dob"] == "1985-04-12"
