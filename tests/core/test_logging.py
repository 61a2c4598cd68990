"""Structured JSON logs with personal data masked: the shape of a line, what the redaction filter
covers (message, arguments, extra fields, exceptions), and how each process's own loggers end up
on the one handler."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings

from core.logging import (
    FRAMEWORK_LOGGERS,
    QUIET_LOGGERS,
    StderrHandler,
    build_handler,
    configure_logging,
    configured,
)
from core.pii.cards import MARKER
from core.pii.identifiers import IBAN_MARKER, ID_MARKER
from tests.people.privacy.strategies import ibans, messages_with_card, national_ids

CARD = "4242 4242 4242 4242"
IBAN = "SE45 5000 0000 0583 9825 7466"
PNR = "811218-9876"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the rest of the suite."""
    names = ["", *FRAMEWORK_LOGGERS, *QUIET_LOGGERS]
    saved = {
        n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level, logging.getLogger(n).propagate)
        for n in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def emit_everywhere(logger: logging.Logger, secret: str) -> None:
    """The secret in every place a log call can carry it."""
    logger.info("inbound %s", secret, extra={"text": secret, "nested": {"list": [secret, 7]}})
    logger.warning(f"failed for {secret}")
    try:
        raise ValueError(f"could not parse {secret!r}")
    except ValueError:
        logger.exception("turn.failed", extra={"reason": ValueError(secret)})
    logger.error("with stack %s", "info", stack_info=True, extra={"card_as_number": 4242424242424242})


def test_json_line_has_the_fields(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True, service="gateway")
    log = logging.getLogger("tests.logging.shape")
    log.info("inbox.postponed", extra={"event": 12, "delay": 2.0, "level": "clash"})
    log.debug("not at INFO")
    [entry] = lines(capsys.readouterr().err)
    assert (
        entry["level"] == "INFO" and entry["logger"] == "tests.logging.shape" and entry["message"] == "inbox.postponed"
    )
    assert entry["service"] == "gateway" and entry["event"] == 12 and entry["delay"] == 2.0
    assert entry["extra_level"] == "clash"  # an extra field never overwrites ours
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_everything_a_record_carries_is_masked(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="DEBUG", json=True)
    secret = f"card {CARD}, iban {IBAN}, personnummer {PNR}"
    emit_everywhere(logging.getLogger("tests.logging.mask"), secret)
    out = capsys.readouterr().err
    entries = lines(out)
    assert len(entries) == 4
    for raw in (CARD, "4242424242424242", IBAN, IBAN.replace(" ", ""), PNR):
        assert raw not in out
    assert entries[0]["message"] == f"inbound card {MARKER}, iban {IBAN_MARKER}, personnummer {ID_MARKER}"
    assert entries[0]["nested"] == {"list": [entries[0]["text"], 7]} and MARKER in entries[0]["text"]
    assert "ValueError: could not parse" in entries[2]["exc_info"] and MARKER in entries[2]["exc_info"]
    assert MARKER in entries[2]["reason"] and "stack_info" in entries[3] and entries[3]["card_as_number"] == MARKER


def test_text_format_is_masked_too(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=False)
    logging.getLogger("tests.logging.text").warning("card %s", CARD)
    err = capsys.readouterr().err
    assert f"WARNING tests.logging.text: card {MARKER}" in err and not err.startswith("{")


def test_settings_from_the_environment(
    restore_logging: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("LOG_FORMAT", "json")
    configure_logging()
    logging.getLogger("tests.logging.env").info("hidden")
    logging.getLogger("tests.logging.env").warning("shown")
    assert [e["message"] for e in lines(capsys.readouterr().err)] == ["shown"]
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        configure_logging(level="LOUD")


def test_replaces_console_handlers_keeps_others(restore_logging: None) -> None:
    root = logging.getLogger()
    console, kept = logging.StreamHandler(sys.stderr), logging.StreamHandler(io.StringIO())
    root.addHandler(console)
    root.addHandler(kept)
    first = configure_logging(json=True)
    second = configure_logging(json=True)  # idempotent: one handler of ours
    assert console not in root.handlers and kept in root.handlers and first not in root.handlers
    assert [h for h in root.handlers if isinstance(h, StderrHandler)] == [second] and configured()
    assert logging.getLogger("httpx").level == logging.WARNING  # its INFO lines carry bot tokens in URLs


def test_uvicorn_loggers_are_routed_and_a_disabled_access_log_stays_off(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)  # what uvicorn does before it calls create_app
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [], False  # --no-access-log
    configure_logging(level="INFO", json=True, service="gateway")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/health", "1.1", 200)
    assert [e["message"] for e in lines(capsys.readouterr().err)] == ["Started server process [42]"]
    assert not logging.getLogger("uvicorn").handlers and logging.getLogger("uvicorn").propagate


def test_huey_console_handler_is_replaced(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    from huey.consumer_options import ConsumerConfig

    ConsumerConfig(workers=1).setup_logger(logging.getLogger("huey"))  # what huey_consumer does
    configure_logging(level="INFO", json=True, service="worker")  # the worker's startup hook
    logging.getLogger("huey").info("Executing inbox.worker.sweep: 1234")
    [entry] = lines(capsys.readouterr().err)
    assert entry["logger"] == "huey" and entry["service"] == "worker"


def test_action_server_configures_only_when_it_is_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.actions

    assert bot.actions._action_server_level() is None  # imported by the tests: left alone
    server = "/venv/lib/python3.11/site-packages/rasa_sdk/__main__.py"
    monkeypatch.setattr(sys, "argv", [server, "--actions", "bot.actions", "-p", "5055", "--quiet"])
    assert bot.actions._action_server_level() == logging.WARNING
    monkeypatch.setattr(sys, "argv", [server, "--actions", "bot.actions"])
    assert bot.actions._action_server_level() == logging.INFO
    ours = "/app/bot/action_server.py"  # python -m bot.action_server (the token-checking entry)
    monkeypatch.setattr(sys, "argv", [ours, "--actions", "bot.actions", "--host", "127.0.0.1", "--quiet"])
    assert bot.actions._action_server_level() == logging.WARNING


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@settings(max_examples=60, deadline=None)
@given(case=messages_with_card(), iban=ibans(), national_id=national_ids)
def test_property_nothing_personal_reaches_the_output(case: tuple[str, str], iban: str, national_id: str) -> None:
    """Every card (any grouping, next to anything), IBAN and national ID, wherever the record carries it."""
    digits, message = case
    stream = io.StringIO()
    handler = build_handler(json=True, stream=stream)
    logger = logging.getLogger("tests.logging.property")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        for secret in (message, f"{iban} / {national_id}"):
            emit_everywhere(logger, secret)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for entry in lines(out):
        for value in strings(entry):
            assert digits not in "".join(ch for ch in value if ch.isdigit()), value
    assert iban not in out and iban.replace(" ", "") not in out and national_id not in out
    assert IBAN_MARKER in out and ID_MARKER in out and MARKER in out


def test_a_broken_format_string_is_still_logged_and_masked() -> None:
    stream = io.StringIO()
    handler = build_handler(json=True, stream=stream)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad %d format %s", (CARD,), None)
    handler.handle(record)
    assert MARKER in lines(stream.getvalue())[0]["message"] and "4242" not in stream.getvalue()
