"""Twilio SMS and WhatsApp adapter: webhook signatures, parsing, splitting, and sending through the
real twilio SDK (async path) to a fake Twilio on loopback.

Over 400 lines on purpose: the adapter's whole contract (edge, templates, sending) against one fake Twilio.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from channels.base import Button, OutboundContext, Reply
from channels.twilio import (
    CONFIG,
    TWILIO_MAX_BODY,
    WHATSAPP_LIMIT,
    TwilioOutput,
    WhatsAppTemplates,
    is_valid_request,
    parse,
    parse_status,
    preview,
    public_url,
    split_text,
)
from tests.fakes.twilio_server import FakeTwilio, LoopbackTwilioHttpClient, inbound_form, signed

TOKEN = "test_auth_token_1234567890abcdef"
PUBLIC = "https://collect.example.org"
URL = PUBLIC + "/channels/twilio/sms"
SMS_FROM = "+15005550006"
WA_FROM = "+14155238886"
DEBTOR = "+46701234567"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TEMPLATES = WhatsAppTemplates.from_mapping(
    {
        "en": {"reopen": "HX" + "a" * 32},
        "sv": {"reopen": "HX" + "b" * 32},
        "pt-BR": {"reopen": "HX" + "c" * 32},
    },
    default_locale="en",
)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
async def http(fake: FakeTwilio) -> AsyncIterator[LoopbackTwilioHttpClient]:
    client = fake.http_client()
    try:
        yield client
    finally:
        await client.close()


def output(fake: FakeTwilio, http: LoopbackTwilioHttpClient, channel: str = "sms", **kwargs: object) -> TwilioOutput:
    options: dict = {
        "channel": channel,
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from_number": WA_FROM if channel == "whatsapp" else SMS_FROM,
        "status_callback_url": PUBLIC + "/channels/twilio/status",
        "templates": TEMPLATES,
        "http_client": http,
        "clock": lambda: NOW,
    }
    options.update(kwargs)
    return TwilioOutput(**options)


def words(text: str) -> str:
    return "".join(text.split())


# --- signatures -------------------------------------------------------------------------------


def sms_form() -> dict[str, str]:
    return inbound_form(channel="sms", from_=DEBTOR, to=SMS_FROM, body="I can pay 50 on Friday")


def test_valid_signature_is_accepted() -> None:
    params, signature = signed(URL, sms_form(), TOKEN)
    assert is_valid_request(auth_token=TOKEN, url=URL, params=params, signature=signature)


def test_explicit_default_port_still_validates() -> None:
    params, signature = signed(URL, sms_form(), TOKEN)
    url = "https://collect.example.org:443/channels/twilio/sms"
    assert is_valid_request(auth_token=TOKEN, url=url, params=params, signature=signature)


def test_query_string_is_part_of_the_signed_url() -> None:
    url = public_url(PUBLIC, "/channels/twilio/sms", "tenant=acme")
    assert url == URL + "?tenant=acme"
    params, signature = signed(url, sms_form(), TOKEN)
    assert is_valid_request(auth_token=TOKEN, url=url, params=params, signature=signature)
    assert not is_valid_request(auth_token=TOKEN, url=URL, params=params, signature=signature)


def test_wrong_auth_token_is_rejected() -> None:
    params, signature = signed(URL, sms_form(), "another_accounts_token")
    assert not is_valid_request(auth_token=TOKEN, url=URL, params=params, signature=signature)


def test_tampered_body_is_rejected() -> None:
    params, signature = signed(URL, sms_form(), TOKEN)
    tampered = {**params, "Body": "I will never pay"}
    assert not is_valid_request(auth_token=TOKEN, url=URL, params=tampered, signature=signature)
    added = {**params, "From": "+46709999999"}
    assert not is_valid_request(auth_token=TOKEN, url=URL, params=added, signature=signature)


def test_wrong_url_is_rejected_so_the_public_url_must_be_used_behind_a_proxy() -> None:
    params, signature = signed(URL, sms_form(), TOKEN)
    internal = "http://10.0.0.5:8000/channels/twilio/sms"  # what the app sees behind the proxy
    assert not is_valid_request(auth_token=TOKEN, url=internal, params=params, signature=signature)
    rebuilt = public_url(PUBLIC + "/", "channels/twilio/sms")
    assert is_valid_request(auth_token=TOKEN, url=rebuilt, params=params, signature=signature)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_rejected(header: str | None) -> None:
    params, _ = signed(URL, sms_form(), TOKEN)
    assert not is_valid_request(auth_token=TOKEN, url=URL, params=params, signature=header)


# --- parsing ----------------------------------------------------------------------------------


def test_parse_sms() -> None:
    form = inbound_form(channel="sms", from_=DEBTOR, to=SMS_FROM, body="Hello", message_sid="SM" + "1" * 32)
    message = parse(channel="sms", form=form, received_at=NOW)
    assert message.channel == "sms"
    assert message.sender == DEBTOR
    assert message.text == "Hello"
    assert message.provider_message_id == "SM" + "1" * 32
    assert message.received_at == NOW
    assert message.locale_hint == "sv"  # from the calling code, before any text


def test_parse_whatsapp_strips_the_prefix() -> None:
    form = inbound_form(channel="whatsapp", from_=DEBTOR, to=WA_FROM, body="Hej")
    assert form["From"] == "whatsapp:" + DEBTOR
    message = parse(channel="whatsapp", form=form, received_at=NOW)
    assert (message.channel, message.sender, message.text) == ("whatsapp", DEBTOR, "Hej")
    assert message.provider_message_id == form["MessageSid"]


def test_parse_media_only_keeps_empty_text() -> None:
    form = inbound_form(channel="whatsapp", from_=DEBTOR, to=WA_FROM, body="", num_media=1)
    assert parse(channel="whatsapp", form=form, received_at=NOW).text == ""
    del form["Body"]
    assert parse(channel="whatsapp", form=form, received_at=NOW).text == ""


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
def test_parse_rejects_incomplete_forms(missing: str) -> None:
    form = sms_form()
    del form[missing]
    with pytest.raises(ValueError, match=missing):
        parse(channel="sms", form=form, received_at=NOW)


def test_parse_rejects_a_message_of_the_other_channel() -> None:
    whatsapp = inbound_form(channel="whatsapp", from_=DEBTOR, to=WA_FROM, body="x")
    with pytest.raises(ValueError):
        parse(channel="sms", form=whatsapp, received_at=NOW)
    with pytest.raises(ValueError):
        parse(channel="whatsapp", form=sms_form(), received_at=NOW)


def test_parse_status_callback() -> None:
    assert parse_status({"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "SmsStatus": "delivered"}) == (
        "SM" + "1" * 32,
        "delivered",
        None,
    )
    assert parse_status({"MessageSid": "SM" + "2" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}) == (
        "SM" + "2" * 32,
        "undelivered",
        "30003",
    )
    assert parse_status({"MessageSid": "SM" + "3" * 32, "MessageStatus": "sent", "ErrorCode": ""})[2] is None
    with pytest.raises(ValueError):
        parse_status({"MessageStatus": "sent"})
    with pytest.raises(ValueError):
        parse_status({"MessageSid": "SM" + "4" * 32})


# --- splitting --------------------------------------------------------------------------------


def test_split_short_text_is_one_part() -> None:
    assert split_text("  Your balance is 120.00 EUR.\n", 1600) == ["Your balance is 120.00 EUR."]
    assert split_text("", 1600) == []
    assert split_text(" \n\n ", 1600) == []


def test_split_prefers_paragraph_breaks() -> None:
    first = "First paragraph. " * 30  # 510 characters
    second = "Second one, with a line\nbreak inside. " * 10
    third = "Third."
    text = f"{first.strip()}\n\n{second.strip()}\n\n{third}"
    parts = split_text(text, 600)
    assert parts == [first.strip(), f"{second.strip()}\n\n{third}"]


def test_split_falls_back_to_lines_sentences_then_spaces() -> None:
    lines = "\n".join(["A line that is forty characters long...."] * 5)
    assert split_text(lines, 100) == ["\n".join(["A line that is forty characters long...."] * 2)] * 2 + [
        "A line that is forty characters long...."
    ]
    sentences = "One sentence here. Another sentence there! A third one? Yes."
    assert split_text(sentences, 40) == ["One sentence here.", "Another sentence there! A third one?", "Yes."]
    plain = "word " * 20
    parts = split_text(plain, 23)
    assert parts == ["word word word word"] * 5
    quoted = 'He said "pay now." Then left.'
    assert split_text(quoted, 20) == ['He said "pay now."', "Then left."]


def test_split_hard_cuts_only_a_single_overlong_word() -> None:
    url = "https://pay.example.org/" + "x" * 3000
    text = f"Pay here: {url} thanks"
    assert split_text(text, 1600) == ["Pay here:", url[:1600], url[1600:] + " thanks"]
    assert split_text("x" * 3500, 1600) == ["x" * 1600, "x" * 1600, "x" * 300]


def test_split_5000_characters() -> None:
    sentence = "Your instalment of 45.00 EUR is due on the first of every month. "
    text = (sentence * 77)[:5000].strip()
    for limit in (TWILIO_MAX_BODY, WHATSAPP_LIMIT):
        parts = split_text(text, limit)
        assert -(-len(text) // limit) <= len(parts) <= -(-len(text) // limit) + 1
        assert all(0 < len(p) <= limit for p in parts)
        assert " ".join(parts).split() == text.split()
        assert all(p.endswith(".") for p in parts[:-1])  # cut at sentence ends


def test_split_counts_emoji_as_two_like_twilio() -> None:
    text = "😀" * 1000
    parts = split_text(text, 1600)
    assert [len(p) for p in parts] == [800, 200]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("abc .!?\n\t😀é")), max_size=400),
    limit=st.integers(min_value=2, max_value=60),
)
def test_split_preserves_every_word_in_order(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(p and p == p.strip() for p in parts)
    assert all(len(p.encode("utf-16-le")) // 2 <= limit for p in parts)
    assert words("".join(parts)) == words(text)
    whole = [w for w in text.split() if len(w.encode("utf-16-le")) // 2 <= limit]
    joined = " ".join(parts).split()
    assert all(w in joined for w in whole)


def test_preview_is_one_short_line() -> None:
    assert preview("Hello\n\nthere\tyou") == "Hello there you"
    long = preview("word " * 100, 40)
    assert len(long) <= 40 and long.endswith("…") and "\n" not in long
    assert long.removesuffix("…").split() == ["word"] * len(long.removesuffix("…").split())


# --- sending ----------------------------------------------------------------------------------


async def test_sms_with_buttons_becomes_numbered_options(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    sms = output(fake, http)
    buttons = (Button("Pay now", "/pay"), Button("Set up a plan", "/plan"))
    deliveries = await sms.send(
        to=DEBTOR, reply=Reply("How would you like to proceed?", buttons), context=OutboundContext(locale="en")
    )
    assert len(deliveries) == 1
    assert deliveries[0].status == "queued"
    assert deliveries[0].provider_message_id == fake.messages[0].sid
    assert deliveries[0].provider_message_id.startswith("SM")
    sent = fake.messages[0]
    assert sent.body == "How would you like to proceed?\n1) Pay now\n2) Set up a plan"
    assert (sent.to, sent.from_) == (DEBTOR, SMS_FROM)
    assert sent.status_callback == PUBLIC + "/channels/twilio/status"
    assert sent.content_sid is None
    request = fake.requests[-1]
    assert request.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


async def test_long_text_is_sent_as_several_messages_in_order(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    paragraphs = [f"Paragraph {i}: " + "some explanation of the agreement. " * 20 for i in range(1, 6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) > 3000
    deliveries = await output(fake, http).send(to=DEBTOR, reply=Reply(text), context=OutboundContext(locale="en"))
    assert len(deliveries) == len(fake.messages) >= 3
    assert [d.provider_message_id for d in deliveries] == [m.sid for m in fake.messages]
    bodies = [m.body or "" for m in fake.messages]
    assert all(len(b) <= TWILIO_MAX_BODY for b in bodies)
    assert "\n\n".join(bodies) == text  # cut at paragraph breaks, nothing lost, order kept


async def test_buttons_stay_with_the_last_part(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    text = "Intro. " * 300
    await output(fake, http).send(
        to=DEBTOR, reply=Reply(text, (Button("Yes", "/affirm"),)), context=OutboundContext(locale="en")
    )
    assert len(fake.messages) == 2
    assert (fake.messages[-1].body or "").endswith("Intro.\n1) Yes")


async def test_whatsapp_inside_the_window_sends_the_body(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    whatsapp = output(fake, http, "whatsapp")
    context = OutboundContext(locale="sv", last_inbound_at=NOW - timedelta(hours=2))
    deliveries = await whatsapp.send(
        to=DEBTOR, reply=Reply("Tack! Vill du betala nu?", (Button("Ja", "/affirm"),)), context=context
    )
    assert [d.status for d in deliveries] == ["queued"]
    sent = fake.messages[0]
    assert (sent.to, sent.from_) == ("whatsapp:" + DEBTOR, "whatsapp:" + WA_FROM)
    assert sent.body == "Tack! Vill du betala nu?\n1) Ja"
    assert sent.content_sid is None and "ContentSid" not in sent.params


@pytest.mark.parametrize("last_inbound_at", [NOW - timedelta(hours=25), None, NOW - timedelta(hours=24)])
async def test_whatsapp_outside_the_window_sends_the_template(
    fake: FakeTwilio, http: LoopbackTwilioHttpClient, last_inbound_at: datetime | None
) -> None:
    whatsapp = output(fake, http, "whatsapp")
    context = OutboundContext(locale="pt-BR", last_inbound_at=last_inbound_at)
    text = "Seu pagamento de 120,00 BRL\nfoi recebido. Obrigado!"
    deliveries = await whatsapp.send(to=DEBTOR, reply=Reply(text, (Button("OK", "/ok"),)), context=context)
    assert len(deliveries) == 1 and deliveries[0].status == "queued"
    sent = fake.messages[0]
    assert sent.content_sid == "HX" + "c" * 32
    assert sent.content_variables == {"1": "Seu pagamento de 120,00 BRL foi recebido. Obrigado!"}
    assert "Body" not in sent.params and sent.body is None
    assert sent.to == "whatsapp:" + DEBTOR


async def test_whatsapp_template_variables_and_locale_fallback(
    fake: FakeTwilio, http: LoopbackTwilioHttpClient
) -> None:
    whatsapp = output(fake, http, "whatsapp")
    context = OutboundContext(locale="de", template_variables={"1": "Neue\nNachricht"})
    await whatsapp.send(to=DEBTOR, reply=Reply("ignored here"), context=context)
    assert fake.messages[0].content_sid == "HX" + "a" * 32  # no de template: default locale en
    assert fake.messages[0].content_variables == {"1": "Neue Nachricht"}


async def test_whatsapp_without_template_fails_without_calling_twilio(
    fake: FakeTwilio, http: LoopbackTwilioHttpClient
) -> None:
    whatsapp = output(fake, http, "whatsapp", templates=WhatsAppTemplates())
    deliveries = await whatsapp.send(to=DEBTOR, reply=Reply("Hi"), context=OutboundContext(locale="en"))
    assert deliveries[0].status == "failed" and "template" in (deliveries[0].error or "")
    assert fake.requests == []


async def test_twilio_error_becomes_a_failed_delivery(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    fake.fail_next()
    deliveries = await output(fake, http).send(to=DEBTOR, reply=Reply("Reminder"), context=OutboundContext(locale="en"))
    assert deliveries == [deliveries[0]]
    assert deliveries[0].status == "failed"
    assert deliveries[0].provider_message_id is None
    assert "21610" in (deliveries[0].error or "") and "unsubscribed" in (deliveries[0].error or "")
    assert fake.messages == []


async def test_failure_stops_the_rest_of_a_split_message(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    text = "\n\n".join([("Part one. " * 100).strip(), ("Part two. " * 100).strip(), ("Part three. " * 100).strip()])
    fake.fail_next(1, after=1, code=30007, message="Message filtered")
    deliveries = await output(fake, http).send(to=DEBTOR, reply=Reply(text), context=OutboundContext(locale="en"))
    assert [d.status for d in deliveries] == ["queued", "failed"]
    assert "30007" in (deliveries[1].error or "")
    assert len(fake.requests) == 2  # the third part was not sent
    assert [m.body for m in fake.messages] == [("Part one. " * 100).strip()]


async def test_wrong_credentials_become_a_failed_delivery(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    sms = output(fake, http, auth_token="wrong")
    deliveries = await sms.send(to=DEBTOR, reply=Reply("Hi"), context=OutboundContext(locale="en"))
    assert deliveries[0].status == "failed" and "20003" in (deliveries[0].error or "")


async def test_a_hanging_twilio_times_out_as_failed() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = LoopbackTwilioHttpClient(f"http://127.0.0.1:{port}")
    try:
        sms = TwilioOutput(
            channel="sms",
            account_sid="AC" + "0" * 32,
            auth_token="token",
            from_number=SMS_FROM,
            http_client=http,
            send_timeout=0.2,
        )
        deliveries = await sms.send(to=DEBTOR, reply=Reply("Hi"), context=OutboundContext(locale="en"))
        assert deliveries[0].status == "failed" and "0.2s" in (deliveries[0].error or "")
    finally:
        await http.close()
        server.close()


async def test_status_callback_from_the_fake_round_trips(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    [delivery] = await output(fake, http).send(to=DEBTOR, reply=Reply("Hi"), context=OutboundContext(locale="en"))
    assert delivery.provider_message_id is not None
    form = fake.status_callback_form(delivery.provider_message_id, "undelivered", error_code=30003)
    callback = PUBLIC + "/channels/twilio/status"
    params, signature = signed(callback, form, fake.auth_token)
    assert is_valid_request(auth_token=fake.auth_token, url=callback, params=params, signature=signature)
    assert parse_status(params) == (delivery.provider_message_id, "undelivered", "30003")


# --- the fake itself, through the SDK -----------------------------------------------------------


async def test_fake_enforces_twilio_rules(fake: FakeTwilio, http: LoopbackTwilioHttpClient) -> None:
    client = Client(fake.account_sid, fake.auth_token, http_client=http)
    with pytest.raises(TwilioRestException) as too_long:
        await client.messages.create_async(to=DEBTOR, from_=SMS_FROM, body="x" * 1601)
    assert too_long.value.code == 21617
    with pytest.raises(TwilioRestException) as mixed:
        await client.messages.create_async(to="whatsapp:" + DEBTOR, from_=SMS_FROM, body="x")
    assert mixed.value.code == 21910
    with pytest.raises(TwilioRestException) as no_body:
        await client.messages.create_async(to=DEBTOR, from_=SMS_FROM)
    assert no_body.value.code == 21602
    stranger = Client("AC" + "f" * 32, fake.auth_token, http_client=http)
    with pytest.raises(TwilioRestException) as unauthorised:
        await stranger.messages.create_async(to=DEBTOR, from_=SMS_FROM, body="x")
    assert (unauthorised.value.status, unauthorised.value.code) == (401, 20003)
    # "ł" is not in GSM-7, so UCS-2 with 70 characters per segment
    message = await client.messages.create_async(to=DEBTOR, from_=SMS_FROM, body="ł" * 71)
    assert (message.status, message.num_segments) == ("queued", "2")
    assert fake.resources[message.sid]["body"] == "ł" * 71


# --- configuration ----------------------------------------------------------------------------


def test_shipped_config_has_reopen_placeholders_for_every_locale() -> None:
    templates = WhatsAppTemplates.load(CONFIG)
    for locale in ("en", "sv", "de", "pt-BR"):
        sid = templates.content_sid(locale, "reopen")
        assert sid is not None and sid.startswith("HX000000") and len(sid) == 34
    assert templates.default_locale == "en"


def test_config_rejects_malformed_sids() -> None:
    with pytest.raises(ValueError, match="Content SID"):
        WhatsAppTemplates.from_mapping({"en": {"reopen": "not-a-sid"}})
    with pytest.raises(ValueError, match="default_locale"):
        WhatsAppTemplates.from_mapping({"en": {"reopen": "HX" + "a" * 32}}, default_locale="fr")


def test_constructor_validates_the_sender() -> None:
    with pytest.raises(ValueError):
        TwilioOutput(channel="whatsapp", account_sid="AC1", auth_token="t", from_number="Acme")
    wa = TwilioOutput(channel="whatsapp", account_sid="AC1", auth_token="t", from_number="whatsapp:" + WA_FROM)
    assert wa.from_number == WA_FROM and wa.name == "whatsapp"
    assert TwilioOutput(channel="sms", account_sid="AC1", auth_token="t", from_number="Acme").name == "sms"


def test_locale_hint_from_calling_code() -> None:
    from channels.twilio import locale_from_number

    assert [locale_from_number(n) for n in ("+447700900123", "+4915112345678", "+5511987654321", "+46701234567", "+33612345678")] == [
        "en", "de", "pt-BR", "sv", None,
    ]  # fmt: skip


def test_a_reshaped_captured_form_is_refused() -> None:
    """Twilio's signature cannot tell "MessageSid=SM…" + "NumMedia=0" from "MessageSid=SM…NumMedia0":
    a replayed capture with a field swallowed must not become a new message or status."""
    form = sms_form()
    swallowed = {k: v for k, v in form.items() if k != "NumMedia"}
    swallowed["MessageSid"] = form["MessageSid"] + "NumMedia" + form["NumMedia"]
    with pytest.raises(ValueError, match="MessageSid"):
        parse(channel="sms", form=swallowed, received_at=NOW)
    sid = "SM" + "5" * 32
    with pytest.raises(ValueError, match="MessageSid"):
        parse_status({"MessageSid": sid + "MessageStatusdelivered", "SmsSid": sid, "SmsStatus": "delivered"})
    with pytest.raises(ValueError, match="MessageSid"):
        parse_status({"SmsSid": sid, "MessageStatus": "delivered"})  # From swallowed MessageSid
