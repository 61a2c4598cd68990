"""SMS and WhatsApp through Twilio Programmable Messaging: the outbound side, and the one name
the rest of the code imports (`channels.twilio`) for the inbound edge too.

Inbound (channels/twilio_inbound.py): `is_valid_request` checks a webhook's `X-Twilio-Signature`
against the PUBLIC URL (`public_url`), `parse` turns the form into an `InboundMessage`, and
`parse_status` reads delivery reports. WhatsApp templates and previews: channels/twilio_templates.py.

Outbound: `TwilioOutput` sends through the twilio SDK's async path
(`client.messages.create_async` on an `AsyncTwilioHttpClient`), so the event loop never blocks.
Buttons become numbered options ("1) ...") that people answer with a digit. Text that is too long
is split (`split_text`) and sent as several messages, in order.

Limits: Twilio accepts at most 1600 characters in `Body` on every Programmable Messaging channel,
WhatsApp included (Twilio error 21617). WhatsApp's own limit is 4096, but it does not apply when
sending through Twilio's Messages API, so both channels split at 1600 by default (`max_length`).

WhatsApp's 24-hour rule: free-form messages are only allowed within 24 hours of the person's last
message. Outside that window (or if they never wrote), the adapter sends the locale's approved
`reopen` template from config/channels.yml (`ContentSid` plus `ContentVariables`, no `Body`).
When the person answers, the window opens again.

Failures never raise out of `send`: a Twilio API error, a network error or a timeout becomes
`Delivery(status="failed", error=...)`, and the rest of a split message is not sent (a message
missing its middle is worse than one that stops). Sends are not retried: a retried POST can
deliver the same SMS twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import SIGNATURE_HEADER
from twilio.rest import Client

from channels.base import Button, Delivery, OutboundContext, numbered_options
from channels.text import split_text, units
from channels.twilio_http import RedirectedTwilioHttpClient
from channels.twilio_inbound import (
    CHANNELS,
    WHATSAPP_PREFIX,
    Channel,
    is_valid_request,
    locale_from_number,
    parse,
    parse_status,
    public_url,
)
from channels.twilio_templates import CONFIG, WhatsAppTemplates, preview
from locales.reply import Reply

__all__ = [
    "CONFIG",
    "REOPEN_TEMPLATE",
    "SESSION_WINDOW",
    "SIGNATURE_HEADER",
    "TWILIO_MAX_BODY",
    "WHATSAPP_LIMIT",
    "WHATSAPP_PREFIX",
    "Channel",
    "RedirectedTwilioHttpClient",
    "TwilioOutput",
    "WhatsAppTemplates",
    "is_valid_request",
    "locale_from_number",
    "parse",
    "parse_status",
    "preview",
    "public_url",
    "split_text",
]

log = logging.getLogger(__name__)

TWILIO_MAX_BODY = 1600  # Twilio's cap on Body for every Messaging channel (error 21617)
WHATSAPP_LIMIT = 4096  # WhatsApp's own cap; Twilio's 1600 is lower, so TwilioOutput uses that

SESSION_WINDOW = timedelta(hours=24)  # WhatsApp customer-service window
WINDOW_MARGIN = timedelta(minutes=1)  # a message accepted at 23:59:59 may reach Meta after 24:00
REOPEN_TEMPLATE = "reopen"  # template sent outside the window; one variable, {{1}}
SEND_TIMEOUT = 15.0  # seconds per API call (the SDK's async client has no timeout of its own)

E164 = re.compile(r"\+[1-9]\d{6,14}")


# --- Outbound -----------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TwilioOutput:
    """`OutputChannel` for one Twilio channel, "sms" or "whatsapp".

    `from_number` is E.164 (or, for SMS, an alphanumeric sender ID / short code); the adapter adds
    `whatsapp:` itself. `to` in `send` is the E.164 number, as `parse` gives it.
    `http_client` is any twilio `AsyncHttpClient` (tests pass one that talks to FakeTwilio);
    without it an `AsyncTwilioHttpClient` is created on first use (it needs a running loop) and
    closed by `aclose()`. A client passed in is the caller's to close.
    """

    def __init__(
        self,
        *,
        channel: Channel,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback_url: str | None = None,
        templates: WhatsAppTemplates | None = None,
        http_client: AsyncHttpClient | None = None,
        api_base: str | None = None,
        max_length: int = TWILIO_MAX_BODY,
        send_timeout: float = SEND_TIMEOUT,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown Twilio channel {channel!r}")
        if not account_sid or not auth_token:
            raise ValueError("Twilio account SID and auth token are required")
        number = from_number.strip()
        if number.lower().startswith(WHATSAPP_PREFIX):
            number = number[len(WHATSAPP_PREFIX) :]
        if not number or (channel == "whatsapp" and not E164.fullmatch(number)):
            raise ValueError(f"{channel} sender {from_number!r} is not an E.164 number")
        if not 2 <= max_length <= TWILIO_MAX_BODY:
            raise ValueError(f"max_length must be between 2 and {TWILIO_MAX_BODY}")
        self.name: str = channel
        self.from_number = number
        self.status_callback_url = status_callback_url
        self.templates = templates or WhatsAppTemplates()
        self.max_length = max_length
        self.send_timeout = send_timeout
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._http = http_client
        self._api_base = api_base
        self._owns_http = http_client is None
        self._clock = clock
        self._client: Any = None

    # -- OutputChannel --

    async def send(self, *, to: str, reply: Reply, context: OutboundContext) -> list[Delivery]:
        """Send the reply's text (buttons as numbered options), in several messages if too long.

        WhatsApp outside the 24-hour window sends the locale's `reopen` template instead. Returns one
        Delivery per API call made; a failure stops the remaining parts and is never raised.
        """
        recipient = self._address(to)
        if self.name == "whatsapp" and not self.in_session_window(context.last_inbound_at):
            return [await self._send_template(recipient, reply.text, context)]
        deliveries: list[Delivery] = []
        for part in self.render(reply.text, reply.buttons):
            delivery = await self._create(recipient, body=part)
            deliveries.append(delivery)
            if delivery.status == "failed":
                break
        return deliveries

    # -- helpers, public for callers and tests --

    def render(self, text: str, buttons: Sequence[Button] | None = None) -> list[str]:
        """The message bodies `send` sends inside the window, in order. The numbered options
        stay with the last part when they fit there, so the digits answer the last message."""
        parts = split_text(text, self.max_length)
        if not buttons:
            return parts
        options = numbered_options("", buttons).lstrip("\n")
        if parts and units(numbered_options(parts[-1], buttons)) <= self.max_length:
            return [*parts[:-1], numbered_options(parts[-1], buttons)]
        return parts + split_text(options, self.max_length)

    def in_session_window(self, last_inbound_at: datetime | None) -> bool:
        """Whether a free-form WhatsApp message is allowed: the person wrote within 24 hours (with
        a minute's margin). Naive datetimes are taken as UTC."""
        if last_inbound_at is None:
            return False
        if last_inbound_at.tzinfo is None:
            last_inbound_at = last_inbound_at.replace(tzinfo=UTC)
        return self._clock() - last_inbound_at < SESSION_WINDOW - WINDOW_MARGIN

    async def aclose(self) -> None:
        """Close the HTTP client this adapter created (not one passed in)."""
        if self._owns_http and self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    # -- internals --

    def _address(self, number: str) -> str:
        number = number.strip()
        if self.name == "whatsapp" and not number.lower().startswith(WHATSAPP_PREFIX):
            return WHATSAPP_PREFIX + number
        return number

    def _sender(self) -> str:
        return WHATSAPP_PREFIX + self.from_number if self.name == "whatsapp" else self.from_number

    def _twilio(self) -> Any:
        if self._client is None:
            if self._http is None:
                self._http = RedirectedTwilioHttpClient(self._api_base) if self._api_base else AsyncTwilioHttpClient()
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def _send_template(self, recipient: str, text: str, context: OutboundContext) -> Delivery:
        content_sid = self.templates.content_sid(context.locale, REOPEN_TEMPLATE)
        if content_sid is None:
            log.warning("no WhatsApp %r template for locale %s: message not sent", REOPEN_TEMPLATE, context.locale)
            return Delivery(
                provider_message_id=None,
                status="failed",
                error=f"outside the WhatsApp 24-hour window and no {REOPEN_TEMPLATE!r} template "
                f"for locale {context.locale!r} in config/channels.yml",
            )
        variables = {key: preview(value, 1000) or "…" for key, value in context.template_variables.items()}
        if not variables:
            variables = {"1": preview(text) or "…"}
        return await self._create(
            recipient, content_sid=content_sid, content_variables=json.dumps(variables, ensure_ascii=False)
        )

    async def _create(
        self,
        recipient: str,
        *,
        body: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> Delivery:
        try:
            async with asyncio.timeout(self.send_timeout):
                message = await self._twilio().messages.create_async(
                    to=recipient,
                    from_=self._sender(),
                    body=values.unset if body is None else body,
                    content_sid=values.unset if content_sid is None else content_sid,
                    content_variables=values.unset if content_variables is None else content_variables,
                    status_callback=self.status_callback_url or values.unset,
                )
        except TwilioRestException as exc:
            log.warning("Twilio rejected a %s message: %s %s", self.name, exc.code, exc.msg)
            return Delivery(provider_message_id=None, status="failed", error=f"Twilio error {exc.code}: {exc.msg}")
        except TwilioException as exc:  # e.g. TwilioServiceException (RFC 9457 errors)
            code = getattr(exc, "code", None)
            detail = getattr(exc, "detail", None) or getattr(exc, "title", None) or type(exc).__name__
            log.warning("Twilio rejected a %s message: %s %s", self.name, code, detail)
            return Delivery(provider_message_id=None, status="failed", error=f"Twilio error {code}: {detail}")
        except TimeoutError:
            log.warning("Twilio did not answer within %ss (%s)", self.send_timeout, self.name)
            return Delivery(
                provider_message_id=None,
                status="failed",
                error=f"no answer from Twilio within {self.send_timeout}s (the message may still have been accepted)",
            )
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("could not reach Twilio (%s): %s", self.name, exc)
            return Delivery(provider_message_id=None, status="failed", error=f"could not reach Twilio: {exc}")
        status = str(message.status or "queued")
        if message.error_code:
            return Delivery(
                provider_message_id=message.sid,
                status="failed",
                error=f"Twilio error {message.error_code}: {message.error_message or status}",
            )
        return Delivery(provider_message_id=message.sid, status=status)
