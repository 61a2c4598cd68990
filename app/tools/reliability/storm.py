"""The replay storm's material: the distinct messages and events, and their deliveries.

Inbound messages (Twilio SMS and WhatsApp, Telegram), each from its own sender, so that what the
debtor got back can be counted per message; Stripe events about pending payments: for each
payment `checkout.session.completed` and `payment_intent.succeeded` (the same money, booked once),
for some a partial refund. A redelivery is what the provider would send again: Twilio and
Telegram repeat the request byte for byte, Stripe signs the same event with a new timestamp.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from app.tools.reliability.harness import Target
from app.tools.reliability.webhooks import (
    TWILIO_PATHS,
    PendingPayment,
    Request,
    new_number,
    pending_payments,
    stripe_header,
    stripe_request,
    telegram_request,
    twilio_form,
    twilio_request,
    twilio_signature,
)
from tests.fakes.telegram_server import text_update

# Telegram redelivers an update until it gets a 2xx, Stripe an event for days (backing off);
# Twilio does not redeliver a message its webhook answered with an error (error 11200): one try.
RETRIED = {429, 500, 502, 503, 504, 599}
MAX_ATTEMPTS = 8  # backing off 0.1 s ... 5 s: ~11 s in all


def attempts(item: Inbound | Event) -> int:
    return 1 if isinstance(item, Inbound) and item.channel != "telegram" else MAX_ATTEMPTS


@dataclass(frozen=True)
class Inbound:
    channel: str  # sms, whatsapp, telegram
    provider_id: str  # MessageSid or update_id
    address: str  # the sender: E.164 number or Telegram chat id
    request: Request


@dataclass(frozen=True)
class Event:
    event_id: str
    payload: bytes
    payment: PendingPayment

    def request(self, secret: str) -> Request:
        return stripe_request("replay", self.payload, stripe_header(self.payload, secret))


@dataclass
class Plan:
    inbound: list[Inbound]
    events: list[Event]
    payments: list[PendingPayment]
    refunds: dict[int, int]  # payment id -> amount refunded (minor units)

    @property
    def distinct(self) -> int:
        return len(self.inbound) + len(self.events)


def split(distinct: int) -> tuple[dict[str, int], int, int]:
    """Inbound per channel, payments and refunds for `distinct` items (~55 % inbound)."""
    inbound = max(3, round(distinct * 0.55))
    stripe = max(3, distinct - inbound)
    refunds = max(1, stripe // 9)
    payments = (stripe - refunds) // 2
    refunds = stripe - 2 * payments
    sms = round(inbound * 5 / 11)
    whatsapp = (inbound - sms) // 2
    return {"sms": sms, "whatsapp": whatsapp, "telegram": inbound - sms - whatsapp}, payments, refunds


def inbound(target: Target, channel: str, *, rng: random.Random, text: str = "hi") -> Inbound:
    """A new message from a new sender on `channel` (sms, whatsapp, telegram)."""
    if channel == "telegram":
        update_id, chat = rng.randrange(10**8, 10**9), rng.randrange(10**6, 10**9)
        request = telegram_request("replay", text_update(update_id, chat, text, "en"), target.telegram_secret)
        return Inbound(channel, str(update_id), str(chat), request)
    endpoint = f"twilio-{channel}"
    form = twilio_form(endpoint, sender=new_number(), body=text)
    signature = twilio_signature(target.public_base_url + TWILIO_PATHS[endpoint], form, target.twilio_token)
    request = twilio_request(endpoint, "replay", form, signature)
    return Inbound(channel, form["MessageSid"], form["From"].removeprefix("whatsapp:"), request)


async def plan(target: Target, *, distinct: int, rng: random.Random, text: str = "hi") -> Plan:
    channels, payment_count, refund_count = split(distinct)
    messages = [
        inbound(target, channel, rng=rng, text=text) for channel, count in channels.items() for _ in range(count)
    ]
    # Amounts big enough that Jonas's payments run through his fees into the principal.
    payments = await pending_payments(target, [1500 + 37 * i for i in range(payment_count)])
    events: list[Event] = []
    refunds: dict[int, int] = {}
    for index, payment in enumerate(payments):
        for kind in ("checkout.session.completed", "payment_intent.succeeded"):
            body = payment.event(kind)
            events.append(Event(str(body["id"]), json.dumps(body).encode(), payment))
        if index < refund_count:
            refunds[payment.id] = payment.amount_minor // 2
            body = payment.event("charge.refunded", amount_refunded=refunds[payment.id])
            events.append(Event(str(body["id"]), json.dumps(body).encode(), payment))
    return Plan(messages, events, payments, refunds)


@dataclass
class Deliveries:
    statuses: Counter[int] = field(default_factory=Counter)  # final answer per delivery
    retries: int = 0  # deliveries tried again after a 429/5xx or a connection error
    unacknowledged: int = 0  # given up on (never a 2xx)
    skipped: int = 0  # repeats not sent because the time budget ran out
    seconds: float = 0.0


async def storm(
    target: Target, work: Plan, *, deliveries: int, concurrency: int, rng: random.Random, budget: float | None = None
) -> Deliveries:
    """Every item once plus random repeats, shuffled, `concurrency` at a time. After `budget`
    seconds only items not delivered yet are still sent (a slow target ends the storm early)."""
    items: list[Inbound | Event] = [*work.inbound, *work.events]
    order = items + [rng.choice(items) for _ in range(max(0, deliveries - len(items)))]
    rng.shuffle(order)
    result = Deliveries()
    gate = asyncio.Semaphore(concurrency)
    sent: set[int] = set()
    started = time.monotonic()

    async def deliver(item: Inbound | Event) -> None:
        async with gate:
            if budget is not None and id(item) in sent and time.monotonic() - started > budget:
                result.skipped += 1
                return
            sent.add(id(item))
            for attempt in range(attempts(item)):
                if attempt:
                    result.retries += 1
                    await asyncio.sleep(min(5.0, 0.1 * 2 ** (attempt - 1)))
                request = item.request if isinstance(item, Inbound) else item.request(target.stripe_secret)
                try:
                    status = await request.send(target)
                except httpx.TransportError:
                    status = 599
                if status not in RETRIED:
                    break
            result.statuses[status] += 1
            if not 200 <= status < 300:
                result.unacknowledged += 1

    await asyncio.gather(*(deliver(item) for item in order))
    result.seconds = time.monotonic() - started
    return result
