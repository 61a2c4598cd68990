"""Issue 8 point 2, the webhook forgery sweep: Twilio (SMS, WhatsApp, status callback), Telegram
and Stripe each get generated forgeries (tools/reliability/forgeries.py); every one must be
refused with a 4xx while nothing is stored (no table of the database changes) and nothing is
sent (FakeTwilio and FakeTelegram receive no request).

Runs against the gateway app in-process (tools/reliability/harness.py): inbox work happens inside
the request, so "nothing stored or sent" is checked right after each response. Genuine requests
go first (the controls): each must be accepted *and* be seen to store or send something, which
proves the sweep would notice a forgery that got through. They are also the "captured" requests
the replay forgeries start from.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from app.tools.reliability import forgeries
from app.tools.reliability.harness import Target, changed, in_process
from app.tools.reliability.report import Row
from app.tools.reliability.webhooks import (
    TWILIO_PATHS,
    PendingPayment,
    Request,
    pending_payments,
    status_form,
    stripe_header,
    stripe_request,
    telegram_request,
    twilio_form,
    twilio_request,
    twilio_signature,
)
from tests.fakes.telegram_server import text_update

ENDPOINTS = ("twilio-sms", "twilio-whatsapp", "twilio-status", "telegram", "stripe")


@dataclass(frozen=True)
class Result:
    request: Request
    status: int
    changed: list[str]  # tables whose rows changed
    sent: int  # requests the fakes received

    @property
    def rejected(self) -> bool:
        return 400 <= self.status < 500 and not self.changed and not self.sent

    @property
    def crashed(self) -> bool:
        """Refused, but by a server error (nothing stored or sent): never a 500 for bad input."""
        return self.status >= 500 and not self.changed and not self.sent

    @property
    def seen(self) -> bool:
        """A control: accepted, and its effect is visible to the sweep."""
        return 200 <= self.status < 300 and bool(self.changed or self.sent)

    def describe(self) -> str:
        effect = ",".join(self.changed) + (f" +{self.sent} sent" if self.sent else "")
        return f"{self.request.endpoint}/{self.request.kind} -> {self.status} {effect or 'no effect'}"


@dataclass
class Sweep:
    controls: list[Result] = field(default_factory=list)
    forgeries: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def leaks(self) -> list[Result]:
        """Accepted (2xx, 3xx) or with an effect: got past the authenticity check."""
        return [r for r in self.forgeries if not r.rejected and not r.crashed]

    @property
    def crashes(self) -> list[Result]:
        return [r for r in self.forgeries if r.crashed]


async def probe(target: Target, request: Request, before: dict[str, str]) -> tuple[Result, dict[str, str]]:
    sent = target.sent()
    status = await request.send(target)
    after = await target.fingerprint()
    return Result(request, status, changed(before, after), target.sent() - sent), after


async def genuine(
    target: Target, payments: list[PendingPayment]
) -> tuple[list[Result], dict[str, dict[str, str]], str]:
    """The controls, in order; the Twilio forms they sent (for the replay forgeries) and the sid of
    a message the gateway sent (what the status callbacks are about)."""
    results: list[Result] = []
    captured: dict[str, dict[str, str]] = {}
    before = await target.quiet()

    async def run(request: Request) -> None:
        nonlocal before
        result, before = await probe(target, request, before)
        results.append(result)

    for endpoint in ("twilio-sms", "twilio-whatsapp"):
        captured[endpoint] = twilio_form(endpoint)
        signature = twilio_signature(
            target.public_base_url + TWILIO_PATHS[endpoint], captured[endpoint], target.twilio_token
        )
        await run(twilio_request(endpoint, "valid", captured[endpoint], signature))
    sender = captured["twilio-sms"]["From"]
    sids = [m.sid for m in list(target.twilio.messages) if m.to == sender]
    status_sid = sids[-1] if sids else "SM" + "0" * 32
    captured["twilio-status"] = status_form(status_sid, "delivered")
    url = target.public_base_url + TWILIO_PATHS["twilio-status"]
    await run(twilio_request("twilio-status", "valid", captured["twilio-status"], twilio_signature(url, captured["twilio-status"], target.twilio_token)))  # fmt: skip
    await run(telegram_request("valid", text_update(800_000_001, 4711, "hi"), target.telegram_secret))
    first, second = payments[0], payments[1]
    body = first.event("checkout.session.completed")
    await run(stripe_request("valid", _json(body), stripe_header(_json(body), target.stripe_secret)))
    body = second.event("payment_intent.succeeded")
    await run(stripe_request("valid-2-minutes-old", _json(body), stripe_header(_json(body), target.stripe_secret, int(time.time()) - 120)))  # fmt: skip
    return results, captured, status_sid


def _json(event: dict[str, object]) -> bytes:
    return json.dumps(event).encode()


async def sweep(target: Target, *, scale: float = 1.0, seed: int = 8) -> Sweep:
    """Controls first, then every forgery, each compared with the state just before it."""
    started = time.monotonic()
    rng = random.Random(seed)
    extra = max(0, round(4 * scale) - 4)  # more random keys at a larger scale
    payments = await pending_payments(target, [1000, 1100, 1200, 1300])
    controls, captured, status_sid = await genuine(target, payments)
    requests = forgeries.twilio(
        rng=rng, token=target.twilio_token, public=target.public_base_url, captured=captured, status_sid=status_sid, extra=extra
    )  # fmt: skip
    requests += forgeries.telegram(rng=rng, secret=target.telegram_secret, bot_token=target.telegram.token, extra=extra)
    requests += forgeries.stripe(
        rng=rng, secret=target.stripe_secret, payment=payments[2], other=payments[3], extra=extra
    )
    result = Sweep(controls=controls)
    before = await target.quiet()
    for request in requests:
        outcome, before = await probe(target, request, before)
        result.forgeries.append(outcome)
    result.seconds = time.monotonic() - started
    return result


def row(result: Sweep) -> Row:
    tried = Counter(r.request.endpoint for r in result.forgeries)
    refused = Counter(r.request.endpoint for r in result.forgeries if r.rejected)
    per_endpoint = ", ".join(f"{e} {refused[e]}/{tried[e]}" for e in ENDPOINTS if tried[e])
    seen = sum(r.seen for r in result.controls)
    detail = (
        f"refused: {per_endpoint}; controls accepted and seen {seen}/{len(result.controls)}; {result.seconds:.1f} s"
    )
    if result.leaks:
        detail += "; LEAKED: " + "; ".join(r.describe() for r in result.leaks)
    if result.crashes:
        detail += "; SERVER ERRORS: " + "; ".join(r.describe() for r in result.crashes)
    unseen = [r for r in result.controls if not r.seen]
    if unseen:
        detail += "; CONTROLS NOT SEEN (the sweep is blind): " + "; ".join(r.describe() for r in unseen)
    rejected = sum(r.rejected for r in result.forgeries)
    errors = len(result.crashes) + len(unseen)  # a blind sweep proves nothing
    return Row("webhook forgery", len(result.forgeries), rejected, 0, len(result.leaks), detail, errors)


async def run(*, scale: float = 1.0, seed: int = 8) -> Row:
    """`make reliability`'s forgery row: the sweep against the in-process gateway on SQLite."""
    async with in_process() as target:
        return row(await sweep(target, scale=scale, seed=seed))
