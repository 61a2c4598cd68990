"""Through the real gateway pipeline (web chat turn, and an SMS through the inbox and its worker's
drain): a card number never reaches the stored transcript (messages, inbound events), the log
output or anything sent to Rasa; and no log record at INFO or above carries what the debtor wrote
or what we answered. Rasa and the action server are faked at the HTTP edge (httpx.MockTransport),
everything else (database, language detection, signals, texts) is real."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.logging import QUIET_LOGGERS, build_handler
from core.pii.cards import MARKER
from tests.people.privacy.strategies import messages_with_card
from tests.pipeline_harness import Harness, RecordingOutput, digits_of

_WORD = re.compile(r"[^\W_]")


@contextmanager
def log_output() -> Iterator[io.StringIO]:
    """Everything logged, at DEBUG, through the production handler (JSON, redacting filter)."""
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False  # an in-process alembic fileConfig elsewhere may have disabled them
    stream = io.StringIO()
    handler = build_handler(json=True, stream=stream)
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=messages_with_card(), path=st.sampled_from(["webchat", "inbox"]))
def test_property_a_card_never_reaches_transcript_logs_or_rasa(
    harness: Harness, case: tuple[str, str], path: str
) -> None:
    digits, message = case
    since = len(harness.rasa.requests)
    with log_output() as output:
        # The pipeline logs no message text; as a worst case the raw message is logged here too,
        # at every level, and the production handler must mask it.
        probe = logging.getLogger("tests.privacy.probe")
        probe.debug("raw %s", message, extra={"text": message})
        probe.info(message)
        probe.error("turn", extra={"body": {"text": message}})
        turn = harness.webchat_turn(message) if path == "webchat" else harness.inbox_turn(message)
        stored = harness.run(turn)

    # (a) the stored transcript: inbound event rows and message rows
    for text in stored:
        assert digits not in digits_of(text), text
    inbound = stored[1] if path == "inbox" else stored[0]
    assert MARKER in inbound and (path == "webchat" or MARKER in stored[0])

    # (b) the log output
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert any(line["logger"] == "tests.privacy.probe" for line in lines)
    for line in lines:
        for value in strings(line):
            assert digits not in digits_of(value), value

    # (c) what Rasa received: the redacted text, once, whenever there was something to answer
    bodies = harness.rasa.webhook_bodies(since)
    for request in harness.rasa.requests[since:]:
        assert digits not in digits_of(request.content.decode()) and digits not in str(request.url)
    for body in bodies:
        assert MARKER in body["message"] and digits not in digits_of(body["message"])
    expected = 1 if _WORD.search(inbound.replace(MARKER, "")) else 0
    assert len(bodies) == expected, inbound


def test_a_card_only_sms_gets_the_warning_and_rasa_nothing(harness: Harness) -> None:
    """As on the web chat: the warning not to share card numbers is the whole answer."""
    output = harness.pipeline.outputs["sms"]
    assert isinstance(output, RecordingOutput)
    sent, since = len(output.sent), len(harness.rasa.requests)
    harness.run(harness.inbox_turn("4242 4242 4242 4242"))
    warning = harness.pipeline.catalog.render("utter_card_number_warning", "en", None, {}).text
    assert harness.rasa.webhook_bodies(since) == [] and output.sent[sent:] == [warning]


BODY = "Zebra umbrella here, my card expired and I lost my job, can I pay 50 on friday?"


def test_no_message_body_or_reply_in_logs_at_info(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """A normal turn on both paths, then Rasa failing, then the action server down: at DEBUG
    anything may be logged, at INFO and above only ids, counts, intents and error kinds."""
    with log_output():
        caplog.set_level(logging.DEBUG)
        for name in QUIET_LOGGERS:
            caplog.set_level(logging.DEBUG, logger=name)
        harness.run(harness.webchat_turn(BODY))
        harness.run(harness.inbox_turn(BODY))
        harness.rasa.rasa_up = False
        try:
            harness.run(harness.webchat_turn(BODY))
            harness.run(harness.inbox_turn(BODY))  # postponed: the inbox keeps it, the person is told
        finally:
            harness.rasa.rasa_up = True
        harness.rasa.actions_up = False
        harness.pipeline.rasa._actions_up = None  # forget the cached probe
        try:
            harness.run(harness.webchat_turn(BODY))
        finally:
            harness.rasa.actions_up = True
            harness.pipeline.rasa._actions_up = None

    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    events = {r.getMessage() for r in loud}
    assert {"rasa.unavailable", "inbox.postponed", "action_server.unavailable"} <= events, events
    assert any(m.startswith("HTTP Request: POST http://rasa.test/webhooks/gateway/webhook") for m in events)
    for record in loud:
        carried = " ".join(
            [record.getMessage(), record.exc_text or "", *(str(v) for k, v in vars(record).items() if k != "msg")]
        )
        for fragment in ("Zebra umbrella", "lost my job", "pay 50 on friday", "Quokka lantern"):
            assert fragment not in carried, (record.name, record.getMessage())
