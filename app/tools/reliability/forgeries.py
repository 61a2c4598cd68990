"""Forged webhook requests, generated: what an attacker without our secrets can send (wrong or
missing signatures, requests signed for another URL or with another key, Stripe events replayed
after the tolerance, malformed headers, garbage bodies) and what one with a captured request can
make of it (fields tampered after signing, Twilio fields shifted so the signature still holds).

Every request here must be refused with a 4xx and change nothing. Randomness is seeded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import time
from collections.abc import Callable
from typing import Any

from app.tools.reliability.webhooks import (
    FORM,
    STRIPE_PATH,
    TELEGRAM_PATH,
    TWILIO_PATHS,
    PendingPayment,
    Request,
    new_number,
    status_form,
    stripe_header,
    stripe_request,
    telegram_request,
    twilio_form,
    twilio_request,
    twilio_signature,
)
from tests.fakes.telegram_server import callback_update, text_update

STRIPE_TOLERANCE = 300  # seconds, stripe.Webhook.DEFAULT_TOLERANCE


def _token(rng: random.Random, length: int = 32) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def _one_off(secret: str) -> str:
    last = "A" if secret[-1] != "A" else "B"
    return secret[:-1] + last


def shifted(params: dict[str, str], key: str) -> dict[str, str]:
    """`key` swallows the field after it (sorted): Twilio signs the sorted key+value pairs with no
    separator, so the signature of a captured request still matches."""
    keys = sorted(params)
    following = keys[keys.index(key) + 1]
    out = {k: v for k, v in params.items() if k != following}
    out[key] = params[key] + following + params[following]
    return out


def twilio(
    *, rng: random.Random, token: str, public: str, captured: dict[str, dict[str, str]], status_sid: str, extra: int
) -> list[Request]:
    """~40 forgeries per Twilio endpoint (SMS, WhatsApp, status callback)."""
    out: list[Request] = []
    for endpoint, path in TWILIO_PATHS.items():
        url = public + path

        def form(endpoint: str = endpoint) -> dict[str, str]:
            return status_form(status_sid, "failed") if endpoint == "twilio-status" else twilio_form(endpoint)

        def add(kind: str, params: dict[str, str], signature: str | bytes | None, endpoint: str = endpoint) -> None:
            out.append(twilio_request(endpoint, kind, params, signature))

        add("no-signature", form(), None)
        add("empty-signature", form(), "")
        for i in range(3 + extra):
            params = form()
            add(f"wrong-token-{i}", params, twilio_signature(url, params, _token(rng)))
        for kind, key in (("token-one-char-off", _one_off(token)), ("token-uppercase", token.upper()),
                          ("token-empty", ""), ("token-of-other-account", _token(rng, 32).lower())):  # fmt: skip
            params = form()
            add(kind, params, twilio_signature(url, params, key))
        # Signed with the right token, for a URL that is not ours.
        other = TWILIO_PATHS["twilio-whatsapp" if endpoint != "twilio-whatsapp" else "twilio-sms"]
        for kind, wrong in (
            ("url-http", url.replace("https://", "http://")),
            ("url-other-host", url.replace("collect.example.org", "evil.example.net")),
            ("url-internal", "http://127.0.0.1:8000" + path),
            ("url-other-endpoint", public + other),
            ("url-query-added", url + "?tenant=other"),
            ("url-trailing-slash", url + "/"),
            ("url-path-case", public + path.upper()),
            ("url-other-port", public + ":8443" + path),
        ):
            params = form()
            add(kind, params, twilio_signature(wrong, params, token))
        # Signed by us, then changed.
        tamper = ["MessageStatus", "MessageSid", "ErrorCode"] if endpoint == "twilio-status" else \
            ["Body", "From", "To", "MessageSid", "AccountSid", "NumMedia"]  # fmt: skip
        for key in tamper:
            params = form()
            signature = twilio_signature(url, params, token)
            add(
                f"tampered:{key}",
                {**params, key: params.get(key, "") + "0" if key != "Body" else "I dispute"},
                signature,
            )
        params = form()
        add("field-added", {**params, "Debug": "1"}, twilio_signature(url, params, token))
        params = form()
        add(
            "field-removed",
            {k: v for k, v in params.items() if k != "ApiVersion"},
            twilio_signature(url, params, token),
        )
        params = form()
        signature = twilio_signature(url, params, token)
        pairs = [*params.items(), ("MessageSid" if endpoint == "twilio-status" else "Body", "second value")]
        out.append(twilio_request(endpoint, "field-duplicated", pairs, signature))
        # Malformed signature values (the valid one altered, or nonsense).
        params = form()
        valid = twilio_signature(url, params, token)
        raw = hmac.new(token.encode(), b"x", hashlib.sha1).digest()
        for kind, value in (
            ("sig-truncated", valid[:-4]), ("sig-extended", valid + "A"), ("sig-swapcase", valid.swapcase()),
            ("sig-not-base64", "!!not*base64!!"), ("sig-hex", raw.hex()), ("sig-very-long", "A" * 8000),
            ("sig-non-ascii", "sïgnätürë".encode("latin-1")), ("sig-list", f"{_token(rng, 28)}=,{_token(rng, 28)}="),
            ("sig-sha256", base64.b64encode(hmac.new(b"k", url.encode(), hashlib.sha256).digest()).decode()),
        ):  # fmt: skip
            add(kind, dict(params), value)
        # Bodies that are not a form.
        for kind, content, ctype in (
            ("body-empty", b"", FORM),
            ("body-garbage", bytes(rng.randrange(256) for _ in range(300)), FORM),
            ("body-json", json.dumps(form()).encode(), "application/json"),
            ("body-oversized", b"Body=" + b"x" * 70_000, FORM),
        ):
            headers: dict[str, str | bytes] = {"Content-Type": ctype, "X-Twilio-Signature": _token(rng, 28) + "="}
            out.append(Request(endpoint, kind, path, content, headers))
        out.append(Request(endpoint, "method-get", path + "?Body=hi&From=%2B46700000009", b"", {}, method="GET"))
        # A captured genuine request: fields shifted so that the signature still holds.
        genuine = captured[endpoint]
        signature = twilio_signature(url, genuine, token)
        before = sorted(genuine)[sorted(genuine).index("MessageSid") - 1]
        add("captured-shift:MessageSid-swallows-next", shifted(genuine, "MessageSid"), signature)
        add(f"captured-shift:{before}-swallows-MessageSid", shifted(genuine, before), signature)
        add(
            f"captured-{endpoint.removeprefix('twilio-')}-elsewhere",
            dict(genuine),
            signature,
            endpoint=_other(endpoint),
        )
    return out


def _other(endpoint: str) -> str:
    return {"twilio-sms": "twilio-whatsapp", "twilio-whatsapp": "twilio-sms", "twilio-status": "twilio-sms"}[endpoint]


def telegram(*, rng: random.Random, secret: str, bot_token: str, extra: int) -> list[Request]:
    """Wrong, missing or misplaced secret tokens, for text messages and button presses."""
    out: list[Request] = []
    ids = iter(range(900_000_000, 901_000_000))
    updates: list[Callable[[], dict[str, object]]] = [
        lambda: text_update(next(ids), rng.randrange(10**6, 10**9), "hi"),
        lambda: callback_update(next(ids), rng.randrange(10**6, 10**9), "/check_balance"),
    ]
    for shape, update in zip(("text", "button"), updates, strict=True):
        values: list[tuple[str, str | bytes | None]] = [
            ("no-secret", None), ("empty-secret", ""), ("secret-truncated", secret[:-1]),
            ("secret-extended", secret + "x"), ("secret-uppercase", secret.upper()), ("secret-leading-space", " " + secret),
            ("secret-one-char-off", _one_off(secret)), ("secret-is-bot-token", bot_token),
            ("secret-non-ascii", (secret[:-1] + "é").encode("latin-1")), ("secret-very-long", secret * 200),
        ]  # fmt: skip
        values += [(f"wrong-secret-{i}", _token(rng, len(secret))) for i in range(3 + extra)]
        for kind, value in values:
            out.append(telegram_request(f"{shape}:{kind}", update(), value))
        for kind, headers in (
            ("secret-in-other-header", {"X-Telegram-Bot-Api-Secret": secret}),
            ("secret-as-bearer", {"Authorization": f"Bearer {secret}"}),
            ("secret-in-cookie", {"Cookie": f"secret_token={secret}"}),
        ):
            out.append(telegram_request(f"{shape}:{kind}", update(), None, headers=headers))
        out.append(
            telegram_request(f"{shape}:secret-in-query", update(), None, path=f"{TELEGRAM_PATH}?secret_token={secret}")
        )
    for kind, content in (
        ("body-empty", b""), ("body-garbage", bytes(rng.randrange(256) for _ in range(200))),
        ("body-array", b"[1, 2, 3]"), ("body-oversized", b'{"update_id": 1, "x": "' + b"x" * 300_000 + b'"}'),
    ):  # fmt: skip
        out.append(telegram_request(kind, None, _token(rng), content=content))
    out.append(
        Request(
            "telegram", "method-get", TELEGRAM_PATH, b"", {"X-Telegram-Bot-Api-Secret-Token": _token(rng)}, method="GET"
        )
    )
    return out


def stripe(
    *, rng: random.Random, secret: str, payment: PendingPayment, other: PendingPayment, extra: int
) -> list[Request]:
    """Events about a pending payment that must not book anything: wrong keys, tampering after
    signing, replays after the tolerance, malformed Stripe-Signature headers, garbage bodies."""
    out: list[Request] = []

    def payload(kind: str = "checkout.session.completed", **changes: Any) -> bytes:
        return json.dumps(payment.event(kind, **changes)).encode()

    now = int(time.time())

    def v1(body: bytes, key: str, when: int = now) -> str:
        return hmac.new(key.encode(), f"{when}.".encode() + body, hashlib.sha256).hexdigest()

    missing: tuple[tuple[str, str | None], ...] = (
        ("no-header", None),
        ("empty-header", ""),
        ("garbage-header", "garbage"),
    )
    for kind, absent in missing:
        out.append(stripe_request(kind, payload(), absent))
    body = payload()
    valid = v1(body, secret)
    for kind, header in (
        ("only-timestamp", f"t={now}"), ("only-v1", f"v1={valid}"), ("timestamp-not-a-number", f"t=soon,v1={valid}"),
        ("v1-empty", f"t={now},v1="), ("scheme-v0-only", f"t={now},v0={valid}"), ("scheme-v2-only", f"t={now},v2={valid}"),
        ("keys-uppercase", f"T={now},V1={valid}"), ("spaces-after-comma", f"t={now}, v1={valid}"),
        ("sig-uppercase-hex", f"t={now},v1={valid.upper()}"), ("sig-truncated", f"t={now},v1={valid[:-2]}"),
        ("sig-extended", f"t={now},v1={valid}00"), ("sig-non-ascii", f"t={now},v1=ü{valid[1:]}".encode("latin-1")),
        ("several-wrong-v1", f"t={now},v1={v1(body, 'a')},v1={v1(body, 'b')}"), ("header-very-long", "t=1," + "v1=0," * 4000),
    ):  # fmt: skip
        out.append(stripe_request(kind, body, header))
    for i in range(3 + extra):
        out.append(stripe_request(f"wrong-secret-{i}", body, stripe_header(body, "whsec_" + _token(rng))))
    for kind, key in (
        ("secret-one-char-off", _one_off(secret)),
        ("secret-uppercase", secret.upper()),
        ("secret-empty-key", ""),
    ):
        out.append(stripe_request(kind, body, f"t={now},v1={v1(body, key)}"))
    for kind, sig in (
        ("hmac-without-timestamp", hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()),
        ("hmac-sha1", hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha1).hexdigest()),
        ("plain-sha256", hashlib.sha256(f"{now}.".encode() + body).hexdigest()),
    ):
        out.append(stripe_request(kind, body, f"t={now},v1={sig}"))
    # Signed by us, then changed.
    for kind, changed in (
        ("tampered:amount", payload(amount_total=payment.amount_minor * 10)),
        ("tampered:payment_id", payload(metadata={"payment_id": str(other.id)})),
        ("tampered:session", payload(id=other.checkout_session_id)),
    ):
        out.append(stripe_request(kind, changed, stripe_header(payload(), secret)))
    unpaid = payload(payment_status="unpaid")
    out.append(
        stripe_request("tampered:unpaid-to-paid", unpaid.replace(b'"unpaid"', b'"paid"'), stripe_header(unpaid, secret))
    )
    failed = payload("payment_intent.payment_failed")
    as_success = failed.replace(b"payment_intent.payment_failed", b"payment_intent.succeeded")
    out.append(stripe_request("tampered:type", as_success, stripe_header(failed, secret)))
    signed_body = payload()
    header = stripe_header(signed_body, secret)
    event = json.loads(signed_body)
    for kind, changed in (
        ("tampered:event-id", json.dumps({**event, "id": "evt_" + _token(rng, 24)}).encode()),
        ("tampered:trailing-newline", signed_body + b"\n"),
        ("tampered:reserialised", json.dumps(event, indent=2, sort_keys=True).encode()),
        ("tampered:utf8-bom", b"\xef\xbb\xbf" + signed_body),
    ):
        out.append(stripe_request(kind, changed, header))
    # Genuinely signed, but replayed after the tolerance (or with a fresh timestamp on an old signature).
    for age in (STRIPE_TOLERANCE + 1, 600, 3600, 86_400, 30 * 86_400):
        body = payload()
        out.append(stripe_request(f"replayed-after-{age}s", body, stripe_header(body, secret, now - age)))
    body = payload()
    out.append(stripe_request("replayed-timestamp-zero", body, stripe_header(body, secret, 0)))
    old = now - 3600
    out.append(stripe_request("replayed-old-sig-new-timestamp", body, f"t={now},v1={v1(body, secret, old)}"))
    # Bodies that are not an event.
    for kind, content in (
        ("body-empty", b""), ("body-garbage", bytes(rng.randrange(256) for _ in range(300))),
        ("body-array", b"[]"), ("body-twilio-form", f"From={new_number()}&Body=hi".encode()),
        ("body-oversized", b'{"id": "evt_x", "pad": "' + b"x" * 300_000 + b'"}'),
    ):  # fmt: skip
        out.append(stripe_request(kind, content, f"t={now},v1={v1(content, 'whsec_' + _token(rng))}"))
    out.append(Request("stripe", "method-get", STRIPE_PATH, b"", {"Stripe-Signature": "t=1,v1=00"}, method="GET"))
    return out
