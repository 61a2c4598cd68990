"""Issue 14, finding 1 ("a person at risk can be silenced"), against the real processes (gateway,
Rasa with the trained model, action server, inbox worker): the messages that were taken as
opt-outs or answered "please rephrase" now get the crisis line or a person, and never withdraw
consent."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from locales import Catalog
from locales.catalog import TONES
from people.jurisdiction import service as jurisdiction
from tests.conftest import SMS_NUMBER
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()

DE_NO_WAY_OUT = "ich will einfach nicht mehr, ich sehe keinen Ausweg"
EN_NO_POINT = "I don't see the point in carrying on"
PT_FLEEING = "saí fugida de casa com as crianças por causa do meu marido e não posso voltar, não me mandem nada lá"


def text(key: str, locale: str) -> str:
    return catalog.render(key, locale).text


def crisis(locale: str, country: str) -> str:
    """The crisis text in `locale` with the crisis line of `country` (a jurisdiction's, not a language's)."""
    arguments = jurisdiction.crisis_arguments(jurisdiction.for_country(country))
    return catalog.render("utter_crisis_support", locale, None, arguments).text


def every_wording(key: str) -> set[str]:
    return {catalog.render(key, code, tone).text for code in ("en", "sv", "de", "pt-BR") for tone in TONES}


def opening(key: str, locale: str) -> str:
    """The fixed start of a text with placeholders (the queue notices say by when)."""
    return catalog.text(key, locale).split("{", 1)[0][:20]


def database(stack: Stack) -> str:
    return stack.database_url.split("///", 1)[1]


def handled(stack: Stack, channel: str, address: str) -> tuple[bool, str | None]:
    """(opted out, reason of the open handoff case) for a channel address."""
    with sqlite3.connect(database(stack)) as db:
        consent = db.execute(
            "SELECT opted_out FROM consents WHERE channel = ? AND address = ?", (channel, address)
        ).fetchone()
        case = db.execute(
            "SELECT h.reason FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
            " WHERE c.channel = ? AND c.external_id = ? AND h.status != 'resolved'",
            (channel, address),
        ).fetchone()
    return bool(consent and consent[0]), case[0] if case else None


def webchat(stack: Stack, message: str, locale: str) -> tuple[str, list[str]]:
    session = f"welfare-{uuid.uuid4().hex}"
    stack.say(session, "hi" if locale == "en" else {"de": "hallo", "pt-BR": "oi"}[locale])
    return session, [m["text"] for m in stack.say(session, message)]


@pytest.mark.parametrize(("message", "locale"), [(DE_NO_WAY_OUT, "de"), (EN_NO_POINT, "en")])
def test_indirect_self_harm_on_web_chat_gets_the_crisis_line_not_an_opt_out(
    stack: Stack, message: str, locale: str
) -> None:
    session, replies = webchat(stack, message, locale)
    # A stranger on web chat: the jurisdiction their language maps to (config/jurisdictions.yml).
    assert replies[0] == crisis(locale, {"de": "DE", "en": "GB"}[locale]), replies
    assert not set(replies) & (every_wording("utter_opt_out_info") | every_wording("utter_default"))
    assert handled(stack, "webchat", stack.address(session)) == (False, "self_harm")


def test_fleeing_domestic_violence_in_portuguese_goes_to_a_person_and_is_not_an_opt_out(stack: Stack) -> None:
    session, replies = webchat(stack, PT_FLEEING, "pt-BR")
    assert not set(replies) & (every_wording("utter_opt_out_info") | every_wording("utter_default")), replies
    assert handled(stack, "webchat", stack.address(session)) == (False, "vulnerability")
    # whatever Rasa made of it, the person is told a person will read it, or is asked (once) about messages
    told = {text("utter_welfare_handoff", "pt-BR"), text("utter_ask_stop_messages", "pt-BR")}
    notices = (opening("utter_handoff_queued", "pt-BR"), opening("utter_handoff_offline", "pt-BR"))
    assert set(replies) & told or any(r.startswith(notices) for r in replies), replies


def wait_until(check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting")


def test_self_harm_by_sms_gets_the_crisis_line_then_one_question_and_stop_stays_immediate(
    stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    twilio, _ = fakes
    number = "+4470" + str(uuid.uuid4().int)[:8]
    url = f"{stack.gateway_url}/channels/twilio/sms"

    def sms(body: str) -> None:
        form = inbound_form(channel="sms", from_=number, to=SMS_NUMBER, body=body, message_sid=None)
        params, signature = signed(url, form, twilio.auth_token)
        assert httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 200

    def sent() -> list[str]:
        return [m.body or "" for m in list(twilio.messages) if m.to == number]

    sms(DE_NO_WAY_OUT)
    wait_until(lambda: len(sent()) >= 2)
    # German words; the crisis line of the country of the (British) number: nobody is identified yet.
    assert sent()[0] == crisis("de", "GB")
    assert sent()[1].startswith(text("utter_crisis_ask_stop_messages", "de")) and "1) " in sent()[1]
    assert handled(stack, "sms", number) == (False, "self_harm")
    sms("2")  # the numbered "no"
    wait_until(lambda: len(sent()) >= 3)
    assert sent()[2] == text("utter_stop_messages_kept", "de")
    assert handled(stack, "sms", number)[0] is False
    sms("STOP")  # a keyword alone stays immediate
    wait_until(lambda: len(sent()) >= 4)
    assert sent()[3] == text("utter_opt_out_info", "de")
    assert handled(stack, "sms", number)[0] is True
