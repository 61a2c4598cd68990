"""Crash under load (tools/reliability/crash.py): how replies are attributed to the messages they
answer, then the check itself at a small scale against the shared stack, kills included."""

from __future__ import annotations

import asyncio

import pytest

from app.tools.reliability import crash
from app.tools.reliability.crash_count import align, matches
from app.tools.reliability.crash_load import Notices, Received
from app.tools.reliability.crash_stack import Setup
from tests.conftest import SMS_NUMBER, TELEGRAM_SECRET, WHATSAPP_NUMBER
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import Stack


def got(*texts: str) -> list[Received]:
    return [Received(text, (), float(i)) for i, text in enumerate(texts)]


def test_sms_replies_match_with_their_numbered_options_and_in_parts() -> None:
    assert matches("How can I help?\n\n1) Check what I owe\n2) Talk to a person", "How can I help?")
    assert matches("A long balance overview, first part", "A long balance overview, first part and the rest")
    assert not matches("Thanks!", "How can I help?")
    assert not matches("", "How can I help?")


def test_replies_are_attributed_to_the_message_they_follow_in_the_transcript() -> None:
    rows = [(0, "Hi, I am an assistant."), (0, "How can I help?"), (1, "Your reference?"), (2, "Your date of birth?")]
    aligned = align(rows, got("Hi, I am an assistant.", "How can I help?\n\n1) Pay", "Your reference?"))
    assert {k: [r.text for r in v] for k, v in aligned.per_group.items()} == {
        0: ["Hi, I am an assistant.", "How can I help?\n\n1) Pay"],
        1: ["Your reference?"],
    }
    assert (aligned.disordered, aligned.never_received) == (0, 1)  # message 2's reply was stored, never received
    aligned = align([(0, "Part one. Part two.")], got("Part one.", "Part two."))
    assert len(aligned.per_group[0]) == 1 and (aligned.disordered, aligned.never_received) == (0, 0)  # split in two


def test_a_reply_received_out_of_order_or_again_is_counted() -> None:
    rows = [(0, "first"), (1, "second"), (2, "third")]
    aligned = align(rows, got("first", "third", "second"))
    assert (aligned.disordered, aligned.repeated) == (1, 0)
    aligned = align(rows, got("first", "second", "second", "third"))  # the reply in flight, resent
    assert (aligned.disordered, aligned.repeated) == (0, 1)
    aligned = align(rows, got("first", "second", "third", "first"))  # an old reply again: disorder
    assert (aligned.disordered, aligned.repeated) == (1, 0)


def test_the_delay_notice_is_recognised_in_every_locale() -> None:
    notice = Notices()
    assert len(notice.prefixes) >= 4
    assert all(notice(prefix + " …") for prefix in notice.prefixes)
    assert not notice("How can I help?")


@pytest.mark.e2e
def test_kill_rasa_actions_and_worker_under_load_loses_nothing(
    stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]
) -> None:
    twilio, telegram = fakes
    setup = Setup(
        stack=stack, twilio=twilio, telegram=telegram, telegram_secret=TELEGRAM_SECRET,
        sms_number=SMS_NUMBER, whatsapp_number=WHATSAPP_NUMBER,
    )  # fmt: skip
    outcome = asyncio.run(crash.measure(setup, debtors_count=4, seed=4, turn_timeout=10.0, drain_timeout=120.0))
    row = crash.row(outcome)
    print(row.detail)
    counted, planned = outcome.tally, sum(len(script.turns) for script in crash.conversations.plan(4))
    assert [kill.process for kill in outcome.kills] == ["rasa", "actions", "worker"]
    assert (counted.sent, counted.answered, counted.lost) == (planned, planned, 0), row.detail
    assert (counted.disordered, counted.not_acknowledged) == (0, 0), row.detail  # (`repeated` is allowed)
    assert f"sent {planned} / answered {planned} / lost 0" in row.detail
    # Not asserted: `answered twice` (at-least-once when the worker dies between Rasa's answer and
    # marking the message done): reported in the row (leaked), rare with one kill.
    for name in ("rasa", "actions", "worker"):
        assert stack.procs[name].poll() is None  # restarted and left running for the other tests
