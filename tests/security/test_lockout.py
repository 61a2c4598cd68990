"""Issue 14, finding "verification lockout resets", reproduced against the real processes (Rasa,
action server, gateway, inbox worker) on SQLite and on PostgreSQL.

The attack: in one web chat verify with known (public demo) details, send `/restart` (Rasa's
built-in reset cleared `verified`), guess two dates of birth on someone else's reference, repeat.
A success cleared every failure of the conversation, so nothing ever locked. Now `/restart` typed
by a person is words, not a command; and even when Rasa's state is reset by other means (its API,
as `/restart` did) or the attacker moves to fresh chats or other channels, the third wrong guess on
a reference locks it — and nobody is told about failures someone else made.

Each test guesses on references of its own (twins of the demo debtors, tests/own_debtor.py), so
its locks reach no other test; on SQLite the tests share the suite's stack, on PostgreSQL the
security tests' PostgreSQL stack (tests/security/stacks.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from core.database import make_engine
from engine.conversations.models import Conversation
from locales import Catalog
from people.debtors.references import reference_key
from people.identity.models import VerificationAttempt
from tests.conftest import SMS_NUMBER, TELEGRAM_SECRET
from tests.fakes.telegram_server import FakeTelegram, text_update
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.own_debtor import own_debtor
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()

# Twins of the demo debtors made per test (tests/own_debtor.py): the attacker's own details
# (Emily's birth date and total) and a victim's birth date; the references are fresh each time.
EMILY_DOB, EMILY_TOTAL = "21/07/1992", "£612.45"
ANNA_DOB, JONAS_DOB, LUCAS_DOB = "12/04/1985", "03/11/1979", "14/02/1990"
SECRETS = ["4 250", "408,40", "1.250", "Anna", "Jonas", "Lucas", "Nordic", "ElKraft"]


def text(key: str, **args: object) -> str:
    return catalog.render(key, "en", None, dict(args)).text


def failed(remaining: int) -> str:
    return text("utter_verification_failed", remaining=remaining)


LOCKED = catalog.text("utter_verification_locked", "en").split("{")[0]  # before the time
ASK_DOB = catalog.text("utter_ask_dob", "en").split("{")[0]
_updates = itertools.count(uuid.uuid4().int % 10**8)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def lockout_stack(request: pytest.FixtureRequest) -> Stack:
    """The suite's stack on SQLite; on PostgreSQL the security tests' own (tests/security/stacks.py,
    shared with test_erase_rasa.py: the debtors are the tests' own either way)."""
    name = "stack" if request.param == "sqlite" else "security_postgres_stack"
    return request.getfixturevalue(name)


# --- talking to the stack -------------------------------------------------------------------------


def new_chat() -> str:
    return f"lockout-{uuid.uuid4().hex}"


def webchat(stack: Stack, chat: str, message: str) -> str:
    """One web chat message; the replies' texts (the one place that knows how web chat is spoken to)."""
    replies = stack.say(chat, message)
    return "\n".join(m["text"] for m in replies).replace("\xa0", " ").replace("\u202f", " ")


def wait_for(new_texts: Callable[[], list[str]], expected: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        joined = "\n".join(new_texts())
        if expected in joined:
            return joined
        time.sleep(0.25)
    raise AssertionError(f"never got {expected!r}; got {new_texts()!r}")


def sms(stack: Stack, twilio: FakeTwilio, number: str, body: str, expected: str) -> str:
    """One SMS through the signed webhook and the inbox; the replies up to the `expected` text."""
    before = len([m for m in list(twilio.messages) if m.to == number])
    url = f"{stack.gateway_url}/channels/twilio/sms"
    params, signature = signed(
        url, inbound_form(channel="sms", from_=number, to=SMS_NUMBER, body=body), twilio.auth_token
    )
    assert httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 200
    return wait_for(lambda: [m.body or "" for m in list(twilio.messages) if m.to == number][before:], expected)


def telegram(stack: Stack, fake: FakeTelegram, chat: int, body: str, expected: str) -> str:
    def to_chat() -> list[str]:
        return [m.text for m in list(fake.sent) if str(m.chat_id) == str(chat)]

    before = len(to_chat())
    update = text_update(next(_updates), chat, body, language_code="en")
    url = f"{stack.gateway_url}/channels/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    assert httpx.post(url, json=update, headers=headers, timeout=30).status_code == 200
    return wait_for(lambda: to_chat()[before:], expected)


def _query(stack: Stack, statement: object) -> list:
    async def run() -> list:
        engine = make_engine(stack.database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(statement)).all())  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def conversation_id(stack: Stack, channel: str, address: str) -> str:
    rows = _query(
        stack, select(Conversation.id).where(Conversation.channel == channel, Conversation.external_id == address)
    )
    assert rows, (channel, address)
    return str(rows[0][0])


def rasa_tracker(stack: Stack, conversation: str) -> dict:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/conversations/{conversation}/tracker"
    return httpx.get(url, params={"include_events": "NONE", **stack.rasa_auth}, timeout=30).json()  # type: ignore[no-any-return]


def reset_rasa(stack: Stack, conversation: str) -> None:
    """What `/restart` used to do: a Restarted event on Rasa's tracker (through Rasa's API)."""
    url = f"http://127.0.0.1:{stack.ports['rasa']}/conversations/{conversation}/tracker/events"
    response = httpx.post(
        url, params={"include_events": "NONE", **stack.rasa_auth}, json={"event": "restart"}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert not rasa_tracker(stack, conversation)["slots"].get("verified")


def attempts_on(stack: Stack, reference: str) -> list[tuple[bool, bool]]:
    """(success, refused) of every attempt on a reference (stored by its key), oldest first."""
    rows = _query(
        stack,
        select(VerificationAttempt.success, VerificationAttempt.refused)
        .where(VerificationAttempt.claimed_reference == reference_key(reference))
        .order_by(VerificationAttempt.created_at, VerificationAttempt.id),
    )
    return [(bool(s), bool(r)) for s, r in rows]


def verify_in_fresh_chat(stack: Stack, reference: str, dob: str) -> str:
    chat = new_chat()
    webchat(stack, chat, "how much do I owe?")
    webchat(stack, chat, reference)
    return webchat(stack, chat, dob)


def assert_locked_silently(stack: Stack, reference: str, dob: str) -> None:
    """The owner's right details in a fresh chat: refused, answered exactly like wrong details
    (the first failure of that chat), nothing disclosed, no word about a lock."""
    answer = verify_in_fresh_chat(stack, reference, dob)
    assert failed(2) in answer and LOCKED not in answer, answer
    assert not any(secret in answer for secret in SECRETS), answer
    assert attempts_on(stack, reference)[-1] == (False, True)  # refused unchecked


# --- the attack -------------------------------------------------------------------------------------


def test_restart_in_one_chat_neither_unverifies_nor_resets_the_count(lockout_stack: Stack) -> None:
    stack, chat = lockout_stack, new_chat()
    own_reference, own_dob, own_total = own_debtor(stack.database_url).reference, EMILY_DOB, EMILY_TOTAL
    ANNA = own_debtor(stack.database_url, like="SE-100234").reference
    webchat(stack, chat, "how much do I owe?")
    webchat(stack, chat, own_reference)
    assert own_total in webchat(stack, chat, own_dob)
    cid = conversation_id(stack, "webchat", stack.address(chat))

    # 1. "/restart" typed by a person is words: Rasa keeps its state, the person stays verified.
    for command in ("/restart", "/session_start", '/restart{"verified": false}', "  //restart"):
        webchat(stack, chat, command)
        assert rasa_tracker(stack, cid)["slots"].get("verified") is True, command
    assert own_total in webchat(stack, chat, "how much do I owe?")  # no new verification asked for

    # 2. Even with Rasa's state reset by other means, own verifications in between clear nothing:
    #    two guesses, verify as oneself, one more guess -> locked at the third wrong guess.
    answers = []
    for round_guesses in (("01/01/1970", "02/02/1970"), ("03/03/1970",)):
        reset_rasa(stack, cid)
        assert text("utter_verify_intro") in webchat(stack, chat, "how much do I owe?")
        for guess in round_guesses:
            webchat(stack, chat, ANNA)
            answers.append(webchat(stack, chat, guess))
        if len(answers) < 3:
            webchat(stack, chat, own_reference)
            assert own_total in webchat(stack, chat, own_dob)  # the attacker's own success
    assert failed(2) in answers[0] and failed(1) in answers[1], answers
    assert LOCKED in answers[2] and failed(0) not in answers[2], answers
    assert not any(secret in a for a in answers for secret in SECRETS)
    assert [a for a in attempts_on(stack, ANNA) if not a[1]] == [(False, False)] * 3
    assert_locked_silently(stack, ANNA, ANNA_DOB)


def test_fresh_chats_and_own_verifications_do_not_reset_the_reference(lockout_stack: Stack) -> None:
    stack = lockout_stack
    own_reference, own_dob, own_total = own_debtor(stack.database_url).reference, EMILY_DOB, EMILY_TOTAL
    JONAS = own_debtor(stack.database_url, like="DE-200871").reference
    for guess in ("01/01/1971", "02/02/1971", "03/03/1971"):
        # A fresh chat for every guess, a successful verification of one's own in between.
        assert own_total in verify_in_fresh_chat(stack, own_reference, own_dob)
        answer = verify_in_fresh_chat(stack, JONAS, guess)
        assert failed(2) in answer, answer  # each chat hears only of its own failure
    assert attempts_on(stack, JONAS) == [(False, False)] * 3
    assert_locked_silently(stack, JONAS, JONAS_DOB)
    # A reference nobody guessed on still verifies (the refusal above is the lock, not a fault).
    assert own_total in verify_in_fresh_chat(stack, own_reference, own_dob)


def test_guesses_spread_over_channels_lock_the_reference(
    lockout_stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    stack, (twilio, fake_telegram) = lockout_stack, fakes
    LUCAS = own_debtor(stack.database_url, like="BR-400918").reference
    # Web chat.
    assert failed(2) in verify_in_fresh_chat(stack, LUCAS, "01/01/1972")
    # SMS (through the signed webhook, the inbox and its worker).
    number = "+4470" + str(uuid.uuid4().int)[:8]
    sms(stack, twilio, number, "how much do I owe?", text("utter_ask_reference"))
    sms(stack, twilio, number, LUCAS, ASK_DOB)
    assert failed(2) in sms(stack, twilio, number, "02/02/1972", failed(2))
    # Telegram.
    chat = 800000 + uuid.uuid4().int % 100000
    telegram(stack, fake_telegram, chat, "how much do I owe?", text("utter_ask_reference"))
    telegram(stack, fake_telegram, chat, LUCAS, ASK_DOB)
    answer = telegram(stack, fake_telegram, chat, "03/03/1972", failed(2))
    assert LOCKED not in answer  # the third failure on the reference, the first of this chat
    assert attempts_on(stack, LUCAS) == [(False, False)] * 3
    assert_locked_silently(stack, LUCAS, LUCAS_DOB)
