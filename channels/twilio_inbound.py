"""Twilio's webhooks at the edge: is a request really from Twilio, and what does it say.

`is_valid_request` checks `X-Twilio-Signature`; `parse` turns an inbound SMS or WhatsApp form into
an `InboundMessage`; `parse_status` reads a delivery report from the status callback.

Signatures cover the URL Twilio requested, so behind a reverse proxy or TLS terminator the URL the
app sees (`http://10.0.0.5:8000/...`) is not the signed one. Always rebuild the public URL from
PUBLIC_BASE_URL plus the request's path and query (see `public_url`), never from the request's
Host header or scheme.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from twilio.request_validator import RequestValidator

from channels.base import InboundMessage

Channel = Literal["sms", "whatsapp"]
CHANNELS: tuple[Channel, ...] = ("sms", "whatsapp")
WHATSAPP_PREFIX = "whatsapp:"


def public_url(public_base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio requested, as configured in the Twilio console: PUBLIC_BASE_URL + path (+ query).

    With FastAPI: `public_url(settings.public_base_url, request.url.path, request.url.query)`.
    """
    url = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


def is_valid_request(*, auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether a webhook really comes from Twilio: `signature` is the `X-Twilio-Signature` header.

    `url` must be the PUBLIC URL Twilio called (PUBLIC_BASE_URL + path + query string, see
    `public_url`), not the URL the app sees behind a proxy: the signature covers it. `params` are
    the POSTed form fields exactly as received (a multi-dict is fine). With or without an explicit
    port both validate, as the SDK allows. A missing or empty header is never valid.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


# Twilio signs the sorted key+value pairs of a form with no separator, so one captured request
# can be reshaped without breaking its signature: a field may swallow the next one ("MessageSid"
# taking "NumMedia0" is a new id that passes the dedupe, and the old message would be processed
# again). Ids and statuses have fixed shapes; anything else was reshaped and is refused.
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
STATUS = re.compile(r"[a-z_]{2,24}")


def parse(*, channel: Channel, form: Mapping[str, str], received_at: datetime) -> InboundMessage:
    """One inbound SMS or WhatsApp message. The sender is the E.164 number (no `whatsapp:` prefix);
    the text is `Body`, which is "" when only media was sent.

    Raises ValueError for a form without `From` or `MessageSid`, or one that belongs to the other
    channel (a WhatsApp message on the SMS webhook would otherwise be answered by SMS).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown Twilio channel {channel!r}")
    raw_sender = (form.get("From") or "").strip()
    sid = (form.get("MessageSid") or "").strip()
    if not raw_sender:
        raise ValueError("Twilio webhook without From")
    if not sid:
        raise ValueError("Twilio webhook without MessageSid")
    if not MESSAGE_SID.fullmatch(sid):
        raise ValueError("MessageSid is not a Twilio message id")
    is_whatsapp = raw_sender.lower().startswith(WHATSAPP_PREFIX)
    if is_whatsapp != (channel == "whatsapp"):
        raise ValueError(f"a {'WhatsApp' if is_whatsapp else 'non-WhatsApp'} message on the {channel} webhook")
    sender = raw_sender[len(WHATSAPP_PREFIX) :].strip() if is_whatsapp else raw_sender
    if not sender:
        raise ValueError("Twilio webhook without From")
    return InboundMessage(
        channel=channel,
        sender=sender,
        text=form.get("Body") or "",
        received_at=received_at,
        provider_message_id=sid,
        locale_hint=locale_from_number(sender),
    )


# Calling codes of the countries whose language we speak: a first hint, before any text.
_CALLING_CODES = {"44": "en", "353": "en", "1": "en", "46": "sv", "358": "sv", "49": "de", "43": "de", "41": "de",
                  "55": "pt-BR", "351": "pt-BR"}  # fmt: skip


def locale_from_number(number: str) -> str | None:
    digits = number.lstrip("+")
    for length in (3, 2, 1):
        if digits[:length] in _CALLING_CODES:
            return _CALLING_CODES[digits[:length]]
    return None


def parse_status(form: Mapping[str, str]) -> tuple[str, str, str | None]:
    """A status callback: (MessageSid, MessageStatus, ErrorCode or None).

    Statuses: queued, sending, sent, delivered, undelivered, failed, read (WhatsApp), ...
    Raises ValueError without MessageSid or MessageStatus.
    """
    # No fallback to the legacy SmsSid/SmsStatus: Twilio always sends both names, and a callback
    # where one is missing was reshaped (see MESSAGE_SID).
    sid = (form.get("MessageSid") or "").strip()
    status = (form.get("MessageStatus") or "").strip()
    if not sid:
        raise ValueError("status callback without MessageSid")
    if not MESSAGE_SID.fullmatch(sid):
        raise ValueError("MessageSid is not a Twilio message id")
    if not status:
        raise ValueError("status callback without MessageStatus")
    if not STATUS.fullmatch(status):
        raise ValueError("MessageStatus is not a Twilio status")
    error_code = (form.get("ErrorCode") or "").strip() or None
    return sid, status, error_code
