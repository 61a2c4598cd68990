"""A custom action that fails during a turn (bot/connectors/action_failures.py reports it). When
the action server died after the gateway's cached probe said it was up, Rasa's "answer" (often
"I didn't understand") is not one: web chat says the assistant is unavailable, the inbox keeps
the message for a retry. With the action server still up, Rasa's replies stand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pipeline_harness import REPLY, Harness


@pytest.fixture
def rasa_reset(harness: Harness) -> Iterator[Harness]:
    yield harness
    harness.rasa.actions_up, harness.rasa.failing_actions, harness.rasa.die = True, [], False
    harness.run(harness.pipeline.rasa.action_server_status())  # the cached probe: up again


def unavailable(harness: Harness) -> str:
    return harness.pipeline.catalog.render("utter_unavailable", "en", None, {}).text


def test_web_chat_says_unavailable_when_the_action_server_died_during_the_turn(rasa_reset: Harness) -> None:
    harness = rasa_reset
    harness.run(harness.pipeline.rasa.action_server_status())  # a fresh probe: up, cached
    harness.rasa.failing_actions, harness.rasa.die = ["action_session_start"], True
    stored = harness.run(harness.webchat_turn("hello, how much do I owe?"))
    assert stored[-1] == unavailable(harness) and REPLY not in stored


def test_the_inbox_keeps_the_message_for_a_retry_when_the_action_server_died(rasa_reset: Harness) -> None:
    harness = rasa_reset
    harness.run(harness.pipeline.rasa.action_server_status())
    harness.rasa.failing_actions, harness.rasa.die = ["action_session_start"], True
    output = harness.pipeline.outputs["sms"]
    sent_before = len(output.sent)  # type: ignore[attr-defined]
    stored = harness.run(harness.inbox_turn("hello, how much do I owe?"))
    delayed = harness.pipeline.catalog.render("utter_replies_delayed", "en", None, {}).text
    # Not answered with Rasa's half answer: told once that replies are delayed, kept for a retry.
    assert REPLY not in stored and output.sent[sent_before:] == [delayed]  # type: ignore[attr-defined]


def test_a_failed_action_with_the_server_up_keeps_rasas_replies(rasa_reset: Harness) -> None:
    harness = rasa_reset
    harness.rasa.failing_actions = ["action_check_balance"]  # it raised; the server answers health
    stored = harness.run(harness.webchat_turn("how much do I owe?"))
    assert stored[-1] == REPLY
