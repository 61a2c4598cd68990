"""The Telegram adapter against the real python-telegram-bot and a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from telegram import Bot

from channels.base import Button, Delivery, InboundMessage, OutboundContext, Reply, numbered_options
from channels.telegram import (
    MAX_TEXT,
    TelegramOutput,
    callback_query_id,
    parse,
    render,
    run_polling,
    secret_ok,
    split_text,
)
from tests.fakes.telegram_server import (
    DEFAULT_TOKEN,
    FakeTelegram,
    callback_update,
    edited_message_update,
    sticker_update,
    text_update,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHAT = 4711
CONTEXT = OutboundContext(locale="sv")
BUTTONS = (Button("Check balance", "/check_balance"), Button("Pay now", "/pay"))
WAIT = 10.0  # seconds: the bound on anything that waits for the polling loop


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def output(fake: FakeTelegram) -> AsyncIterator[TelegramOutput]:
    async with TelegramOutput(fake.token, base_url=fake.base_url) as adapter:
        yield adapter


@pytest.fixture
def bot() -> Bot:
    return Bot(DEFAULT_TOKEN)  # parsing needs no network


# --- secret ---


def test_secret_ok_accepts_the_configured_secret() -> None:
    assert secret_ok("s3cr3t-Token_1", "s3cr3t-Token_1")


@pytest.mark.parametrize("header", ["s3cr3t-Token_2", "", None, "s3cr3t-Token_1 ", "sëcret"])
def test_secret_ok_rejects_wrong_or_missing(header: str | None) -> None:
    assert not secret_ok(header, "s3cr3t-Token_1")


def test_secret_ok_never_matches_an_unconfigured_secret() -> None:
    assert not secret_ok("", "")
    assert not secret_ok("anything", "")


# --- parse ---


def test_parse_text_message(bot: Bot) -> None:
    inbound = parse(text_update(901, CHAT, "Hur mycket är jag skyldig?"), bot=bot, received_at=NOW)
    assert inbound == InboundMessage(
        channel="telegram",
        sender="4711",
        text="Hur mycket är jag skyldig?",
        received_at=NOW,
        provider_message_id="901",
        locale_hint="sv",
    )


def test_parse_text_without_language_code(bot: Bot) -> None:
    inbound = parse(text_update(902, CHAT, "hi", language_code=None), bot=bot, received_at=NOW)
    assert inbound is not None and inbound.locale_hint is None


def test_parse_button_press(bot: Bot) -> None:
    update = callback_update(903, CHAT, "/check_balance", language_code="en")
    inbound = parse(update, bot=bot, received_at=NOW)
    assert inbound == InboundMessage(
        channel="telegram",
        sender="4711",
        text="/check_balance",
        received_at=NOW,
        provider_message_id="903",
        locale_hint="en",
    )
    assert callback_query_id(update) == update["callback_query"]["id"]


def test_callback_query_id_is_none_for_a_message() -> None:
    assert callback_query_id(text_update(904, CHAT, "hej")) is None


@pytest.mark.parametrize(
    "update",
    [
        pytest.param(sticker_update(905, CHAT), id="sticker"),
        pytest.param(edited_message_update(906, CHAT, "rättat"), id="edited"),
        pytest.param(text_update(907, -100123456, "hej alla", chat_type="supergroup"), id="group"),
        pytest.param(
            {
                "update_id": 908,
                "channel_post": {
                    "message_id": 1,
                    "chat": {"id": -100987, "title": "News", "type": "channel"},
                    "date": 1740830400,
                    "text": "news",
                },
            },
            id="channel-post",
        ),
        pytest.param(
            {
                "update_id": 909,
                "my_chat_member": {
                    "chat": {"id": CHAT, "first_name": "Test", "type": "private"},
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Test"},
                    "date": 1740830400,
                    "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "B"}},
                    "new_chat_member": {
                        "status": "kicked",
                        "until_date": 0,
                        "user": {"id": 1, "is_bot": True, "first_name": "B"},
                    },
                },
            },
            id="blocked-the-bot",
        ),
        pytest.param({"update_id": 910}, id="empty"),
        pytest.param({"message": {"text": "no update_id"}}, id="malformed"),
        pytest.param({"update_id": 911, "message": 5}, id="malformed-message"),
    ],
)
def test_parse_ignores_everything_else(bot: Bot, update: dict[str, object]) -> None:
    assert parse(update, bot=bot, received_at=NOW) is None


# --- render and split ---


def test_render_keyboard_or_numbered_fallback() -> None:
    text, markup = render("Choose", BUTTONS)
    assert text == "Choose"
    assert markup is not None and markup.to_dict() == {
        "inline_keyboard": [
            [{"text": "Check balance", "callback_data": "/check_balance"}],
            [{"text": "Pay now", "callback_data": "/pay"}],
        ]
    }
    exactly_64 = [Button("A", "x" * 64)]
    assert render("Choose", exactly_64)[1] is not None
    multibyte = [Button("A", "å" * 33)]  # 66 bytes in UTF-8
    assert render("Choose", multibyte) == (numbered_options("Choose", multibyte), None)


def test_split_text_prefers_paragraphs_then_lines_then_sentences() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}. " + "word " * 150 for i in range(20))
    parts = split_text(paragraphs)
    assert all(len(p) <= MAX_TEXT for p in parts)
    assert all(p.startswith("Paragraph ") for p in parts)  # every cut fell between paragraphs
    assert " ".join(" ".join(parts).split()) == " ".join(paragraphs.split())

    sentences = "Det här är en mening. " * 400
    parts = split_text(sentences)
    assert len(parts) > 1 and all(p.endswith(".") for p in parts)

    assert split_text("x" * 5000) == ["x" * MAX_TEXT, "x" * 904]  # no boundary at all: hard cut
    assert split_text("  short  ") == ["  short  "]  # within the limit: untouched


def test_split_text_counts_utf16_code_units() -> None:
    emoji = "😀" * 3000  # 6000 UTF-16 code units
    parts = split_text(emoji)
    assert parts == ["😀" * 2048, "😀" * 952]


# --- sending through the fake ---


async def test_send_with_inline_keyboard(fake: FakeTelegram, output: TelegramOutput) -> None:
    deliveries = await output.send(to=str(CHAT), reply=Reply("Vad vill du göra?", BUTTONS), context=CONTEXT)
    assert deliveries == [Delivery(provider_message_id="1")]
    [sent] = fake.sent
    assert (sent.chat_id, sent.text) == (CHAT, "Vad vill du göra?")
    assert sent.reply_markup == {
        "inline_keyboard": [
            [{"text": "Check balance", "callback_data": "/check_balance"}],
            [{"text": "Pay now", "callback_data": "/pay"}],
        ]
    }
    assert "parse_mode" not in sent.params  # plain text: nothing in a reply is markup


async def test_send_plain_text_has_no_keyboard(fake: FakeTelegram, output: TelegramOutput) -> None:
    first = await output.send(to=str(CHAT), reply=Reply("Hej *du* _där_ <b>"), context=CONTEXT)
    second = await output.send(to=str(CHAT), reply=Reply("Igen", ()), context=CONTEXT)
    assert first + second == [Delivery("1"), Delivery("2")]
    assert [(s.text, s.reply_markup) for s in fake.sent] == [("Hej *du* _där_ <b>", None), ("Igen", None)]


async def test_long_payload_falls_back_to_numbered_options(fake: FakeTelegram, output: TelegramOutput) -> None:
    buttons = (Button("Check balance", "/check_balance"), Button("Plan", "/plan" + "{" + '"months": 12,' * 6 + "}"))
    assert len(buttons[1].payload.encode()) > 64
    deliveries = await output.send(to=str(CHAT), reply=Reply("Välj:", buttons), context=CONTEXT)
    assert deliveries == [Delivery("1")]
    [sent] = fake.sent
    assert sent.reply_markup is None
    assert sent.text == "Välj:\n1) Check balance\n2) Plan" == numbered_options("Välj:", buttons)


async def test_long_text_is_split_in_order_with_keyboard_on_last(fake: FakeTelegram, output: TelegramOutput) -> None:
    paragraphs = [f"Stycke {i}: " + "Du har en skuld att betala. " * 17 for i in range(19)]
    text = "\n\n".join(paragraphs)[:9000]
    assert len(text) == 9000
    deliveries = await output.send(to=str(CHAT), reply=Reply(text, BUTTONS), context=CONTEXT)
    assert deliveries == [Delivery("1"), Delivery("2"), Delivery("3")]
    assert [s.message_id for s in fake.sent] == [1, 2, 3]
    assert all(0 < len(s.text) <= 4096 for s in fake.sent)
    assert [s.reply_markup is not None for s in fake.sent] == [False, False, True]
    assert fake.sent[2].reply_markup == {
        "inline_keyboard": [
            [{"text": "Check balance", "callback_data": "/check_balance"}],
            [{"text": "Pay now", "callback_data": "/pay"}],
        ]
    }
    assert " ".join(" ".join(s.text for s in fake.sent).split()) == " ".join(text.split())  # nothing lost
    assert all(s.text.startswith("Stycke ") for s in fake.sent)  # cut between paragraphs


async def test_blocked_user_is_a_failed_delivery(fake: FakeTelegram, output: TelegramOutput) -> None:
    fake.fail_next_send()
    deliveries = await output.send(to=str(CHAT), reply=Reply("Påminnelse"), context=CONTEXT)
    assert deliveries == [
        Delivery(provider_message_id=None, status="failed", error="Forbidden: bot was blocked by the user")
    ]
    assert fake.sent == []
    assert await output.send(to=str(CHAT), reply=Reply("Igen"), context=CONTEXT) == [Delivery("1")]  # one-shot


async def test_failure_mid_split_stops_the_rest(fake: FakeTelegram, output: TelegramOutput) -> None:
    await output.send(to=str(CHAT), reply=Reply("Hej"), context=CONTEXT)  # initialises the bot
    text = ("a" * 4000 + "\n\n") * 3
    fake.block_chat(CHAT)
    deliveries = await output.send(to=str(CHAT), reply=Reply(text), context=CONTEXT)
    assert [d.status for d in deliveries] == ["failed"]
    assert len(fake.sent) == 1


async def test_flood_control_is_a_failed_delivery(fake: FakeTelegram, output: TelegramOutput) -> None:
    fake.fail_next_send(429, "Too Many Requests: retry after 7", retry_after=7)
    [delivery] = await output.send(to=str(CHAT), reply=Reply("Hej"), context=CONTEXT)
    assert delivery.status == "failed" and delivery.error is not None and "RetryAfter" in delivery.error


async def test_unreachable_api_is_a_failed_delivery() -> None:
    with FakeTelegram() as gone:
        base_url = gone.base_url
    async with TelegramOutput(DEFAULT_TOKEN, base_url=base_url) as adapter:
        [delivery] = await adapter.send(to=str(CHAT), reply=Reply("Hej"), context=CONTEXT)
    assert delivery.status == "failed" and delivery.error is not None and delivery.error.startswith("NetworkError")


async def test_wrong_token_is_a_failed_delivery(fake: FakeTelegram) -> None:
    async with TelegramOutput("1:wrong", base_url=fake.base_url) as adapter:
        [delivery] = await adapter.send(to=str(CHAT), reply=Reply("Hej"), context=CONTEXT)
    assert delivery.status == "failed" and delivery.error is not None and delivery.error.startswith("InvalidToken")


async def test_bot_is_initialised_lazily_and_once(fake: FakeTelegram, output: TelegramOutput) -> None:
    assert fake.requests == []  # constructing the adapter made no request
    await output.send(to=str(CHAT), reply=Reply("Ett"), context=CONTEXT)
    await output.send(to=str(CHAT), reply=Reply("Två"), context=CONTEXT)
    assert [r.method for r in fake.requests] == ["getMe", "sendMessage", "sendMessage"]


async def test_answer_callback(fake: FakeTelegram, output: TelegramOutput) -> None:
    update = callback_update(911, CHAT, "/pay")
    query_id = callback_query_id(update)
    assert query_id is not None
    assert await output.answer_callback(query_id) is True
    assert [a["callback_query_id"] for a in fake.answered] == [query_id]
    assert await output.answer_callback("") is False  # rejected by Telegram, not raised


# --- polling ---


async def _poll_until(
    fake: FakeTelegram, expected: int, on_message_error: bool = False
) -> list[tuple[InboundMessage, str | None]]:
    received: list[tuple[InboundMessage, str | None]] = []
    enough = asyncio.Event()
    stop = asyncio.Event()

    async def on_message(inbound: InboundMessage, query_id: str | None) -> None:
        received.append((inbound, query_id))
        if len(received) >= expected:
            enough.set()
        if on_message_error and len(received) == 1:
            raise RuntimeError("the pipeline failed")

    task = asyncio.create_task(
        run_polling(token=fake.token, base_url=fake.base_url, on_message=on_message, stop=stop, poll_timeout=1)
    )
    try:
        await asyncio.wait_for(enough.wait(), WAIT)
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)  # stops cleanly, and re-raises what run_polling raised
    return received


async def test_polling_delivers_text_and_button_presses(fake: FakeTelegram) -> None:
    fake.webhook_url = "https://example.invalid/telegram/webhook"  # polling must delete it first
    press = callback_update(3, CHAT, "/check_balance")
    fake.queue_update(text_update(1, CHAT, "hej"))
    fake.queue_update(sticker_update(2, CHAT))  # ignored
    fake.queue_update(press)

    received = await _poll_until(fake, 2)

    [(text, text_query), (button, button_query)] = received
    assert (text.channel, text.sender, text.text, text.provider_message_id, text.locale_hint) == (
        "telegram",
        "4711",
        "hej",
        "1",
        "sv",
    )
    assert text_query is None
    assert (button.sender, button.text, button.provider_message_id) == ("4711", "/check_balance", "3")
    assert button_query == press["callback_query"]["id"]
    assert text.received_at.tzinfo is not None
    assert fake.webhook_url == ""
    assert fake.pending_updates == []  # confirmed on stop: a restart would not see them again
    delete = next(r for r in fake.requests if r.method == "deleteWebhook")
    assert delete.params.get("drop_pending_updates") in (None, "false", False)
    assert fake.sent == []


async def test_polling_goes_on_after_a_failing_callback(fake: FakeTelegram) -> None:
    fake.queue_update(text_update(1, CHAT, "first"))
    fake.queue_update(text_update(2, CHAT, "second"))
    received = await _poll_until(fake, 2, on_message_error=True)
    assert [inbound.text for inbound, _ in received] == ["first", "second"]


async def test_polling_stops_while_a_long_poll_is_in_flight() -> None:
    stop = asyncio.Event()

    async def on_message(inbound: InboundMessage, query_id: str | None) -> None:
        raise AssertionError("no update was queued")

    with FakeTelegram(long_poll_cap=30) as slow:  # getUpdates really waits the 30 s asked for
        task = asyncio.create_task(
            run_polling(token=slow.token, base_url=slow.base_url, on_message=on_message, stop=stop, poll_timeout=30)
        )
        for _ in range(250):
            if any(r.method == "getUpdates" for r in slow.requests):
                break
            await asyncio.sleep(0.02)
        else:
            task.cancel()
            pytest.fail("run_polling never called getUpdates")
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, WAIT)
        assert time.monotonic() - started < 5  # did not sit out the long poll
        assert [r.params.get("timeout") for r in slow.requests if r.method == "getUpdates"] == ["30", "0"]
