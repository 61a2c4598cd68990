"""Provider requests as the providers build them (Twilio forms, Telegram updates, Stripe events),
and the pending payments the Stripe events are about. Shared by the forgery sweep and the storm."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import stripe

from app.tools.reliability.harness import SMS_FROM, WHATSAPP_FROM, Target
from engine.conversations import service as conversations_service
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.providers import SandboxProvider
from people.debtors import service as debtors_service
from tests.fakes.twilio_server import inbound_form, signed

TWILIO_PATHS = {
    "twilio-sms": "/channels/twilio/sms",
    "twilio-whatsapp": "/channels/twilio/whatsapp",
    "twilio-status": "/channels/twilio/status",
}
TELEGRAM_PATH = "/channels/telegram/webhook"
STRIPE_PATH = "/payments/stripe/webhook"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Request:
    """One webhook delivery; `headers` values may be bytes (header values that are not ASCII)."""

    endpoint: str  # twilio-sms, twilio-whatsapp, twilio-status, telegram, stripe
    kind: str  # what was done to it: "valid", "wrong-token-0", "tampered:Body", ...
    path: str
    content: bytes
    headers: dict[str, str | bytes] = field(default_factory=dict)
    method: str = "POST"

    async def send(self, target: Target) -> int:
        headers = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in self.headers.items()]
        response = await target.client.request(self.method, self.path, content=self.content, headers=headers)
        return response.status_code


def new_number() -> str:
    return "+4470" + str(uuid.uuid4().int)[:8]


def twilio_sid() -> str:
    return "SM" + uuid.uuid4().hex


def twilio_form(
    endpoint: str, *, sender: str | None = None, sid: str | None = None, body: str = "hi"
) -> dict[str, str]:
    """A message form for the SMS or WhatsApp webhook (as Twilio POSTs it)."""
    channel = "whatsapp" if endpoint == "twilio-whatsapp" else "sms"
    to = WHATSAPP_FROM if channel == "whatsapp" else SMS_FROM
    return inbound_form(
        channel=channel, from_=sender or new_number(), to=to, body=body, message_sid=sid or twilio_sid()
    )


def status_form(sid: str, status: str = "delivered") -> dict[str, str]:
    """A status callback form (as FakeTwilio.status_callback_form, for any sid)."""
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": "AC" + "0" * 32, "From": SMS_FROM, "To": new_number(), "ApiVersion": "2010-04-01"}  # fmt: skip


def encode_form(params: dict[str, str] | list[tuple[str, str]]) -> bytes:
    return urlencode(list(params.items()) if isinstance(params, dict) else params).encode()


def twilio_request(
    endpoint: str, kind: str, params: dict[str, str] | list[tuple[str, str]], signature: str | bytes | None, *,
    path: str | None = None,
) -> Request:  # fmt: skip
    headers: dict[str, str | bytes] = {"Content-Type": FORM}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return Request(endpoint, kind, path or TWILIO_PATHS[endpoint], encode_form(params), headers)


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    return signed(url, params, token)[1]


def telegram_request(kind: str, update: Any, secret: str | bytes | None, *, headers: dict[str, str] | None = None,
                     path: str = TELEGRAM_PATH, content: bytes | None = None) -> Request:  # fmt: skip
    sent: dict[str, str | bytes] = {"Content-Type": JSON, **(headers or {})}
    if secret is not None:
        sent["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = content if content is not None else json.dumps(update).encode()
    return Request("telegram", kind, path, body, sent)


def stripe_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` as Stripe sends it (t=..., v1=HMAC-SHA256 of "t.payload")."""
    when = int(time.time()) if timestamp is None else timestamp
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, when)


def stripe_request(kind: str, payload: bytes, header: str | bytes | None) -> Request:
    headers: dict[str, str | bytes] = {"Content-Type": JSON}
    if header is not None:
        headers["Stripe-Signature"] = header
    return Request("stripe", kind, STRIPE_PATH, payload, headers)


@dataclass(frozen=True)
class PendingPayment:
    """A Checkout started for a demo debtor from an SMS conversation (receipts go to the fake)."""

    id: int
    checkout_session_id: str
    currency: str
    amount_minor: int
    number: str  # the SMS conversation's address

    def event(self, kind: str, *, event_id: str | None = None, **changes: Any) -> dict[str, Any]:
        """A Stripe event about this payment: checkout.session.completed, payment_intent.succeeded,
        payment_intent.payment_failed or charge.refunded (`refunded` = cumulative amount)."""
        intent, metadata = f"pi_{self.id}_{self.checkout_session_id[-8:]}", {"payment_id": str(self.id)}
        objects: dict[str, dict[str, Any]] = {
            "checkout.session.completed": {"id": self.checkout_session_id, "object": "checkout.session",
                                           "payment_status": "paid", "payment_intent": intent,
                                           "amount_total": self.amount_minor, "metadata": metadata},
            "payment_intent.succeeded": {"id": intent, "object": "payment_intent",
                                         "amount_received": self.amount_minor, "metadata": metadata},
            "payment_intent.payment_failed": {"id": intent, "object": "payment_intent", "metadata": metadata,
                                              "last_payment_error": {"message": "card declined"}},
            "charge.refunded": {"id": f"ch_{self.id}", "object": "charge", "payment_intent": intent,
                                "amount": self.amount_minor, "amount_refunded": 0, "metadata": metadata},
        }  # fmt: skip
        obj = {**objects[kind], **changes}
        return {"id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event", "type": kind,
                "created": int(time.time()), "livemode": False, "data": {"object": obj}}  # fmt: skip


REFERENCES = ("UK-300552", "SE-100234", "DE-200871", "BR-400918")


async def pending_payments(target: Target, amounts: list[int]) -> list[PendingPayment]:
    """One pending payment per amount (minor units), over the demo debtors in turn (skipping any
    with nothing left to pay, on a database other tests used)."""
    made: list[PendingPayment] = []
    async with target.sessionmaker() as session:
        turn = 0
        for amount in amounts:
            for _ in range(len(REFERENCES)):
                reference, turn = REFERENCES[turn % len(REFERENCES)], turn + 1
                debtor = await debtors_service.get_by_reference(session=session, reference=reference)
                assert debtor is not None, "the demo debtors are seeded"
                number = new_number()
                conversation = await conversations_service.get_or_create(
                    session=session, channel="sms", external_id=number
                )
                conversation.locale, conversation.debtor_id = debtor.locale, debtor.id
                payments = await payments_service.start_checkouts(
                    session=session, provider=SandboxProvider(PaymentSettings()), debtor=debtor, debt_ids=None,
                    conversation_id=conversation.id, locale=debtor.locale, descriptions={}, success_url="http://x/ok",
                    cancel_url="http://x/no", amount_minor=amount,
                )  # fmt: skip
                session_id = payments[0].checkout_session_id if payments else None
                if session_id:
                    p = payments[0]
                    made.append(PendingPayment(p.id, session_id, p.currency, p.amount_minor, number))
                    break
            else:
                raise RuntimeError("no demo debtor has anything left to pay")
        await session.commit()
    return made
