"""SMS and Telegram through the real processes: signed webhooks, the durable inbox and its
worker, replies sent through Twilio's and Telegram's APIs (faked on loopback)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from locales import Catalog
from tests.conftest import SMS_NUMBER, TELEGRAM_SECRET
from tests.fakes.telegram_server import FakeTelegram, callback_update, text_update
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.own_debtor import own_debtor
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()


def new_number() -> str:
    return "+4470" + str(uuid.uuid4().int)[:8]


def sms(
    stack: Stack, twilio: FakeTwilio, sender: str, body: str, sid: str | None = None, token: str | None = None
) -> int:
    url = f"{stack.gateway_url}/channels/twilio/sms"
    form = inbound_form(channel="sms", from_=sender, to=SMS_NUMBER, body=body, message_sid=sid)
    params, signature = signed(url, form, token or twilio.auth_token)
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code


def sent_to(twilio: FakeTwilio, number: str) -> list[str]:
    return [m.body or "" for m in list(twilio.messages) if m.to == number]


def wait_until(check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting")


def inbound(stack: Stack, sender: str) -> list[tuple[str, int]]:
    """(status, attempts) of every inbound event from `sender`, oldest first."""
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        rows = db.execute("SELECT status, attempts FROM inbound_events WHERE sender = ? ORDER BY id", (sender,))
        return [(str(status), int(attempts)) for status, attempts in rows.fetchall()]


def wait_processed(stack: Stack, sender: str, count: int) -> None:
    """All `count` messages from `sender` handled by the worker (their replies, if any, sent):
    after this nothing more will be sent for them, so "nothing else arrived" can be asserted."""
    wait_until(lambda: [status for status, _ in inbound(stack, sender)] == ["done"] * count)


def en(key: str) -> str:
    return catalog.text(key, "en")


def test_sms_is_answered_through_the_inbox(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    twilio, _ = fakes
    number = new_number()
    assert sms(stack, twilio, number, "hello there") == 200
    wait_until(lambda: len(sent_to(twilio, number)) >= 2)
    replies = sent_to(twilio, number)
    assert replies[0] == en("utter_ai_disclosure")
    assert replies[1].startswith(en("utter_greet"))  # buttons become numbered options on SMS
    assert "1) " in replies[1]


def test_fifty_deliveries_of_one_message_are_processed_once(
    stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    twilio, _ = fakes
    number, sid = new_number(), "SM" + uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: sms(stack, twilio, number, "hi", sid=sid), range(50)))
    assert codes == [200] * 50
    wait_until(lambda: len(sent_to(twilio, number)) >= 2)
    wait_processed(stack, number, 1)  # one event, handled: anything extra would have been sent
    assert len(sent_to(twilio, number)) == 2
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        assert (
            db.execute("SELECT count(*) FROM inbound_events WHERE provider_message_id = ?", (sid,)).fetchone()[0] == 1
        )


def test_forged_webhooks_are_refused_and_store_nothing(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    twilio, _ = fakes
    number = new_number()
    url = f"{stack.gateway_url}/channels/twilio/sms"
    form = inbound_form(channel="sms", from_=number, to=SMS_NUMBER, body="hi")
    params, signature = signed(url, form, twilio.auth_token)
    tampered = dict(params, Body="pay me")
    assert httpx.post(url, data=params, timeout=30).status_code == 403  # no header
    assert httpx.post(url, data=tampered, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 403
    assert sms(stack, twilio, number, "hi", token="wrong-token") == 403
    wrong_url = f"{stack.gateway_url}/channels/twilio/whatsapp"
    assert httpx.post(wrong_url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 403
    tg = f"{stack.gateway_url}/channels/telegram/webhook"
    update = text_update(999001, 555001, "hej")
    assert httpx.post(tg, json=update, timeout=30).status_code == 403
    assert (
        httpx.post(tg, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}, timeout=30).status_code == 403
    )
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        stored = db.execute(
            "SELECT count(*) FROM inbound_events WHERE sender IN (?, ?)", (number, "555001")
        ).fetchone()[0]
    assert stored == 0


def test_stop_then_silence_then_start(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    twilio, _ = fakes
    number = new_number()
    sms(stack, twilio, number, "STOP")
    wait_until(lambda: len(sent_to(twilio, number)) >= 1)
    assert sent_to(twilio, number) == [en("utter_opt_out_info")]
    sms(stack, twilio, number, "how much do i owe")
    wait_processed(stack, number, 2)
    assert len(sent_to(twilio, number)) == 1  # nothing more on this channel
    sms(stack, twilio, number, "START")
    wait_until(lambda: len(sent_to(twilio, number)) >= 2)
    assert sent_to(twilio, number)[1] == en("utter_opted_in")


def test_telegram_text_and_button(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    _, telegram = fakes
    chat = 700000 + uuid.uuid4().int % 100000
    url = f"{stack.gateway_url}/channels/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    assert (
        httpx.post(
            url, json=text_update(chat, chat, "hej hej", language_code="sv"), headers=headers, timeout=30
        ).status_code
        == 200
    )

    def to_chat() -> list:
        return [m for m in list(telegram.sent) if str(m.chat_id) == str(chat)]

    wait_until(lambda: len(to_chat()) >= 2)
    first, second = to_chat()[:2]
    assert first.text == catalog.text("utter_ai_disclosure", "sv")
    assert second.text == catalog.text("utter_greet", "sv") and second.reply_markup  # an inline keyboard
    update = callback_update(chat + 1, chat, "/check_balance", language_code="sv")
    assert httpx.post(url, json=update, headers=headers, timeout=30).status_code == 200
    wait_until(lambda: len(to_chat()) >= 4)
    assert to_chat()[3].text == catalog.text("utter_ask_reference", "sv")


def test_rasa_down_mid_stream_everything_answered_in_order(
    stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    twilio, _ = fakes
    number = new_number()
    stack.stop("rasa")
    try:
        for text in ("hello", "are you a bot?", "thanks", "bye"):
            assert sms(stack, twilio, number, text) == 200  # acknowledged while Rasa is down
        wait_until(lambda: len(sent_to(twilio, number)) >= 1)
        wait_until(lambda: max((a for _, a in inbound(stack, number)), default=0) >= 2)  # retried, still down
        assert sent_to(twilio, number) == [en("utter_replies_delayed")]  # told once
    finally:
        stack.start("rasa")
        stack.wait_healthy()
    wait_until(lambda: len(sent_to(twilio, number)) >= 6, timeout=120)
    replies = sent_to(twilio, number)
    assert replies[0] == en("utter_replies_delayed")
    assert replies[1] == en("utter_ai_disclosure") and replies[2].startswith(en("utter_greet"))
    assert replies[3:6] == [en("utter_iamabot"), en("utter_thank"), en("utter_goodbye")]


def test_sms_numbered_options_and_delivery_receipts(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    twilio, _ = fakes
    number = new_number()
    sms(stack, twilio, number, "good morning")
    wait_until(lambda: len(sent_to(twilio, number)) >= 2)
    sms(stack, twilio, number, "1")  # "1) Check what I owe"
    wait_until(lambda: len(sent_to(twilio, number)) >= 4)
    assert sent_to(twilio, number)[2:4] == [en("utter_verify_intro"), en("utter_ask_reference")]

    sent = [m for m in list(twilio.messages) if m.to == number][-1]
    url = f"{stack.gateway_url}/channels/twilio/status"
    params, signature = signed(url, twilio.status_callback_form(sent.sid, "delivered"), twilio.auth_token)
    assert httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 204
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        status = db.execute(
            "SELECT delivery_status FROM messages WHERE provider_message_id = ?", (sent.sid,)
        ).fetchone()
    assert status == ("delivered",)


def test_whatsapp_reply_inside_the_window_and_link_after_verification(
    stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    twilio, _ = fakes
    number = new_number()
    url = f"{stack.gateway_url}/channels/twilio/whatsapp"

    def whatsapp(body: str) -> None:
        form = inbound_form(channel="whatsapp", from_=number, to="+46700000001", body=body)
        params, signature = signed(url, form, twilio.auth_token)
        assert httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 200

    def replies() -> list:
        return [m for m in list(twilio.messages) if m.to == f"whatsapp:{number}"]

    emily = own_debtor(stack.database_url)  # her own debtor: no other test has talked to her
    whatsapp("hi, how much do i owe")
    wait_until(lambda: len(replies()) >= 3)
    assert all(m.body and m.content_sid is None for m in replies())  # free-form: the person just wrote
    whatsapp(emily.reference)
    wait_until(lambda: len(replies()) >= 4)
    before = len(replies())
    whatsapp("21/07/1992")
    wait_until(lambda: any("£612.45" in (m.body or "") for m in replies()[before:]))
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        linked = db.execute("SELECT d.name FROM channel_identities i JOIN debtors d ON d.id = i.debtor_id "
                            "WHERE i.channel = 'whatsapp' AND i.address = ?", (number,)).fetchone()  # fmt: skip
    assert linked == (emily.name,)

    # Moving to web chat: after verifying there, the assistant knows where they last spoke.
    session = f"move-{uuid.uuid4().hex}"
    stack.say(session, "hello")
    stack.say(session, "how much do i owe")
    stack.say(session, emily.reference)
    answer = [m["text"] for m in stack.say(session, "21/07/1992")]
    assert answer[0].startswith(f"Thank you, {emily.first_name}")
    assert any("WhatsApp" in text for text in answer[1:]), answer
    assert "612.45" in "\n".join(answer[1:])
