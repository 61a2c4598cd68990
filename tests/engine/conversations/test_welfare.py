"""Welfare first (issue 14, point 1), through the real pipeline on SQLite and PostgreSQL with Rasa
faked at the HTTP edge: self-harm outranks an opt-out reading, a free-text opt-out is asked about
once, STOP stays immediate, and a not-understood message with distress cues goes to a person."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation
from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient
from engine.conversations.welfare import CONFIRMED_SOURCE, answer_to_question
from engine.language.detector import LanguageDetector
from handoff import service as handoff_service
from handoff.models import Reason
from locales import Catalog
from people.consent import service as consent_service
from people.consent.models import Consent
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction
from tests.pipeline_harness import ACTIONS, RASA, REPLY, FakeRasa

_numbers = itertools.count(1)


@dataclass
class World:
    pipeline: Pipeline
    rasa: FakeRasa
    sessionmaker: async_sessionmaker[AsyncSession]

    def text(self, key: str, locale: str, **arguments: object) -> str:
        return self.pipeline.catalog.render(key, locale, None, dict(arguments)).text

    def crisis(self, locale: str, country: str) -> str:
        """The crisis text in `locale` naming the crisis line of `country` (its law, not the language's)."""
        return self.text(
            "utter_crisis_support", locale, **jurisdiction.crisis_arguments(jurisdiction.for_country(country))
        )

    def rasa_turns(self) -> int:
        return len([r for r in self.rasa.requests if r.url.path == "/webhooks/gateway/webhook"])

    async def say(self, sender: str, text: str, channel: str = "sms", locale: str | None = None) -> list[str]:
        replies = await self.pipeline.handle(channel=channel, external_id=sender, text=text, locale_hint=locale)
        return [r.text for r in replies]

    async def opted_out(self, sender: str, channel: str = "sms") -> bool:
        async with self.sessionmaker() as session:
            return await consent_service.opted_out(session=session, channel=channel, address=sender)

    async def case_reason(self, sender: str, channel: str = "sms") -> Reason | None:
        async with self.sessionmaker() as session:
            conversation = await session.scalar(
                select(Conversation).where(Conversation.channel == channel, Conversation.external_id == sender)
            )
            assert conversation is not None
            case = await handoff_service.open_case(session=session, conversation_id=conversation.id)
            return None if case is None else Reason(case.reason)


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[World]:
    fake = FakeRasa()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        pipeline = Pipeline(
            sessionmaker=sessionmaker,
            rasa=RasaClient(rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1),
            catalog=Catalog(),
            detector=LanguageDetector(),
            settings=GatewaySettings(rasa_url=RASA, action_server_url=ACTIONS),
        )
        yield World(pipeline=pipeline, rasa=fake, sessionmaker=sessionmaker)


def number() -> str:
    return f"+46701{next(_numbers):06d}"


async def test_self_harm_that_reads_as_opt_out_gets_the_crisis_line_then_one_question(world: World) -> None:
    sender = number()
    world.rasa.turns = [("opt_out", ["(Rasa would have said: no more messages)"])]
    replies = await world.say(sender, "ich will einfach nicht mehr, ich sehe keinen Ausweg", locale="de")
    # German words; the crisis line of the country the (Swedish) number is from: someone not yet
    # identified is most likely where their number is.
    assert replies == [world.crisis("de", "SE"), world.text("utter_crisis_ask_stop_messages", "de")]
    assert "90101" in replies[0] and "112" in replies[0]
    assert world.rasa_turns() == 0  # no collection talk, no other reading of it
    assert not await world.opted_out(sender)
    assert await world.case_reason(sender) == Reason.SELF_HARM
    # "2" (the second numbered option on SMS): nothing changes
    assert await world.say(sender, "2") == [world.text("utter_stop_messages_kept", "de")]
    assert not await world.opted_out(sender)
    # asked once: a further crisis message gets the crisis line, not the question again
    again = await world.say(sender, "ich habe schon Tabletten gesammelt", locale="de")
    assert again == [world.crisis("de", "SE")]


async def test_the_crisis_question_answered_yes_withdraws_consent_with_the_confirmation(world: World) -> None:
    sender = number()
    await world.say(sender, "I don't see the point in carrying on", locale="en")
    assert await world.say(sender, "/affirm") == [world.text("utter_opt_out_info", "en")]
    assert await world.opted_out(sender)
    async with world.sessionmaker() as session:
        source = await session.scalar(select(Consent.source).where(Consent.channel == "sms", Consent.address == sender))
    assert source == CONFIRMED_SOURCE


async def test_stop_keyword_alone_is_immediate(world: World) -> None:
    sender = number()
    assert await world.say(sender, "STOP") == [world.text("utter_opt_out_info", "en")]
    assert await world.opted_out(sender)
    assert world.rasa_turns() == 0


async def test_free_text_opt_out_about_fees_is_asked_about_once_then_yes_opts_out(world: World) -> None:
    sender = number()
    world.rasa.turns = [("opt_out", [world.text("utter_opt_out_info", "en")])]
    replies = await world.say(sender, "please stop adding fees to my account", locale="en")
    assert replies == [world.text("utter_ask_stop_messages", "en")]
    assert not await world.opted_out(sender)
    turns = world.rasa_turns()
    assert await world.say(sender, "yes") == [world.text("utter_opt_out_info", "en")]
    assert await world.opted_out(sender)
    assert world.rasa_turns() == turns  # the answer was ours, not Rasa's


async def test_free_text_opt_out_answered_no_carries_on_and_the_question_lapses(world: World) -> None:
    sender = number()
    world.rasa.turns = [("opt_out", [world.text("utter_opt_out_info", "en")])]
    await world.say(sender, "stop calling me at work, I'll pay on Friday", channel="webchat", locale="en")
    assert await world.say(sender, "no", channel="webchat") == [world.text("utter_stop_messages_kept", "en")]
    assert not await world.opted_out(sender, "webchat")
    # the question was answered: a later "yes" is Rasa's to read
    assert await world.say(sender, "yes", channel="webchat") == [REPLY]
    assert not await world.opted_out(sender, "webchat")


async def test_an_opt_out_in_own_words_answering_the_question_opts_out(world: World) -> None:
    sender = number()
    world.rasa.turns = [("opt_out", ["x"]), ("opt_out", [world.text("utter_opt_out_info", "en")])]
    await world.say(sender, "don't message me ever again", locale="en")
    assert not await world.opted_out(sender)
    assert await world.say(sender, "yes please, never message me again") == [world.text("utter_opt_out_info", "en")]
    assert await world.opted_out(sender)


async def test_a_not_understood_message_with_distress_cues_goes_to_a_person(world: World) -> None:
    sender = number()
    world.rasa.turns = [("nlu_fallback", [world.text("utter_default", "en")])]
    replies = await world.say(sender, "I've relapsed with my drinking again and lost track of everything", locale="en")
    assert replies[0] == world.text("utter_welfare_handoff", "en")
    assert world.text("utter_default", "en") not in replies
    assert await world.case_reason(sender) == Reason.VULNERABILITY


async def test_rasas_own_rephrase_after_an_intent_is_replaced_on_a_message_with_distress_cues(world: World) -> None:
    sender = number()
    rephrase = world.pipeline.catalog.render("utter_default", "pt-BR", "formal").text
    world.rasa.turns = [("inform", [rephrase])]
    text = "saí fugida de casa com as crianças por causa do meu marido, não posso voltar"
    replies = await world.say(sender, text, channel="webchat", locale="pt-BR")
    assert replies[0] == world.text("utter_welfare_handoff", "pt-BR") and rephrase not in replies
    assert await world.case_reason(sender, "webchat") == Reason.VULNERABILITY


async def test_a_not_understood_ordinary_message_still_asks_to_rephrase(world: World) -> None:
    sender = number()
    world.rasa.turns = [("nlu_fallback", [world.text("utter_default", "en")])]
    assert await world.say(sender, "blorp the thing", channel="webchat", locale="en") == [
        world.text("utter_default", "en")
    ]
    async with world.sessionmaker() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.external_id == sender))
        assert conversation is not None
        messages = await conversations_service.transcript(session=session, conversation_id=conversation.id)
    assert [m.text for m in messages][-1] == world.text("utter_default", "en")


@pytest.mark.parametrize(
    ("text", "stop"),
    [("/affirm", True), ("1", True), ("Yes!", True), ("ja", True), ("Sim", True), ("yes please", True),
     ("/deny", False), ("2", False), ("no", False), ("Nej tack", False), ("nein", False), ("não", False),
     ("no, I'll pay on Friday", None), ("how much do I owe", None), ("3", None)],
)  # fmt: skip
def test_answers_to_the_question(text: str, stop: bool | None) -> None:
    assert answer_to_question(text) is stop


async def test_a_known_debtor_gets_their_jurisdictions_crisis_line_in_the_language_they_write(world: World) -> None:
    # A German case, identified on this (British) number before, writes in English: English words,
    # the German crisis line and emergency number — neither the language's nor the number's.
    sender = f"+4477009{next(_numbers):05d}"
    async with world.sessionmaker() as session:
        debtor = Debtor(
            reference=f"DE-{next(_numbers):06d}", name="Jonas Krise", date_of_birth=date(1979, 11, 3),
            locale="de", timezone="Europe/Berlin", country="DE",
        )  # fmt: skip
        session.add(debtor)
        await session.flush()
        session.add(Conversation(channel="sms", external_id=sender, debtor_id=debtor.id, locale="en"))
        await session.commit()
    replies = await world.say(sender, "I don't see the point in carrying on any more", locale="en")
    assert replies[0] == world.crisis("en", "DE")
    assert "TelefonSeelsorge" in replies[0] and "0800 111 0 111" in replies[0] and "Samaritans" not in replies[0]


async def test_a_stranger_on_web_chat_gets_the_crisis_line_their_language_maps_to(world: World) -> None:
    # Nobody identified and no phone number: the deployment's mapping of the language (sv -> SE).
    replies = await world.say(f"web-{next(_numbers)}", "jag orkar inte leva längre", channel="webchat", locale="sv")
    assert replies[0] == world.crisis("sv", "SE")
    assert "Självmordslinjen" in replies[0]
