"""A fake Stripe API on loopback, for tests that drive the real stripe-python SDK.

The fake sits at the network edge only: it is a real HTTP server on ``127.0.0.1`` and the code
under test reaches it through the SDK's own seam, ``stripe.api_base``. Nothing in the SDK is
patched, so request encoding, headers, retries, idempotency keys and error mapping are Stripe's.

Usage::

    with FakeStripe() as fake:
        stripe.api_base = fake.url              # what PaymentSettings.stripe_api_base feeds in
        checkout = await stripe.checkout.Session.create_async(api_key="sk_test_x", ...)
        event = fake.complete_session(checkout.id)           # checkout.session.completed
        body = event_body(event)
        response = await client.post("/payments/webhook", content=body,
                                     headers={"Stripe-Signature": sign(body, webhook_secret)})

``fake.installed()`` sets ``stripe.api_base`` (and optionally ``stripe.api_key``) for a ``with``
block and restores the previous values afterwards.

Served endpoints (form-encoded bodies, nested keys such as ``line_items[0][price_data][currency]``):

* ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire`` (``mode=payment`` only)
* ``POST /v1/refunds``, ``GET /v1/refunds/{id}``, ``GET /v1/payment_intents/{id}``,
  ``GET /v1/charges/{id}``
* ``GET /pay/{session_id}``: a tiny HTML stand-in for the hosted checkout page (no auth)

Every request needs ``Authorization: Bearer sk_test_...`` (or Basic auth with that key as user),
otherwise a Stripe-shaped 401 comes back (``stripe.AuthenticationError``). Validation failures
come back as Stripe-shaped 400s (``stripe.InvalidRequestError``); top-level and line-item
parameters the installed SDK does not know are rejected with Stripe's "Received unknown
parameter" (the list is read from the SDK's own ``stripe.params`` TypedDicts). ``Idempotency-Key``
is honoured per API key like Stripe: the same key with the same request replays the stored
response (header ``Idempotent-Replayed: true``), with different parameters it is a 400
``idempotency_error`` (``stripe.IdempotencyError``); failed validations are not stored. Keys never
expire here (Stripe forgets them after 24 hours). The ``expand`` parameter is accepted and ignored.

Nothing is ever pushed to a webhook: events are built on demand by ``complete_session``,
``payment_intent_succeeded``, ``payment_intent_failed`` and ``charge_refunded``, and the test
delivers them itself, signed with ``sign()``.

Async calls (``*_async``) and what production code must configure
------------------------------------------------------------------
stripe-python 16 picks its HTTP client lazily on the first request when
``stripe.default_http_client`` is ``None``: a sync ``RequestsClient`` (``requests`` is installed)
with ``async_fallback_client=HTTPXClient()`` (``httpx`` and ``anyio`` are installed). So with no
configuration at all both sync calls and ``*_async`` calls work. Production code therefore only
has to set:

* ``stripe.api_base`` -> ``fake.url`` in tests (``PaymentSettings.stripe_api_base`` does this), and
* an ``sk_test_...`` key (passed as ``api_key=`` or set on ``stripe.api_key``).

If it replaces the client, the choice matters:

* ``stripe.default_http_client = stripe.HTTPXClient()`` (what ``payments/providers.py`` does):
  ``*_async`` calls work, but every *sync* call raises ``RuntimeError`` ("HTTPXClient was
  initialized with allow_sync_methods=False").
* ``stripe.default_http_client = stripe.HTTPXClient(allow_sync_methods=True)``: both work, and
  both go through httpx.
* ``stripe.RequestsClient()`` without ``async_fallback_client``: ``*_async`` calls raise
  ``NotImplementedError``.

``HTTPXClient`` keeps one ``httpx.AsyncClient`` for the process; this fake answers HTTP/1.0 and
closes every connection, so no pooled connection outlives the event loop that opened it.
If ``HTTP_PROXY``/``HTTPS_PROXY`` are set in the environment, add ``127.0.0.1`` to ``NO_PROXY``
or requests and httpx will try to reach the fake through the proxy.
Over 400 lines on purpose: one fake of one provider API (sessions, refunds, events, webhooks) reads best whole.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import html
import importlib
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.fakes.loopback import LoopbackFake, Response

__all__ = ["API_VERSION", "FakeStripe", "RecordedRequest", "event_body", "parse_form", "sign"]

API_VERSION = "2024-06-20"
"""``api_version`` stamped on built events (the webhook endpoint's version, not the SDK's)."""

TEST_KEY_PREFIX = "sk_test_"
SESSION_LIFETIME = 24 * 3600
_ALNUM = string.ascii_letters + string.digits


def _random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


# --- Signing and event bodies --------------------------------------------------------------------


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value Stripe would send with ``payload``, made by the SDK.

    The signature covers the exact body text, so send exactly these bytes (see ``event_body``).
    """
    text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else payload
    return stripe.WebhookSignature.generate_signature_header(text, secret, timestamp=timestamp)


def event_body(event: dict[str, Any]) -> bytes:
    """The event as a compact JSON request body."""
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


# --- Errors --------------------------------------------------------------------------------------


class _ApiError(Exception):
    """Becomes Stripe's error JSON: ``{"error": {"type", "message", "param"?, "code"?}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


def _missing(param: str) -> _ApiError:
    return _ApiError(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _no_such(kind: str, object_id: str, param: str, status: int = 404) -> _ApiError:
    return _ApiError(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


# --- Stripe's form encoding ----------------------------------------------------------------------

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Parse Stripe's form encoding into nested dicts and lists.

    ``line_items[0][price_data][currency]=eur&metadata[payment_id]=7`` becomes
    ``{"line_items": [{"price_data": {"currency": "eur"}}], "metadata": {"payment_id": "7"}}``.
    Objects whose keys are all indexes become lists, except ``metadata`` (its keys are free text).
    ``[]`` appends. Values stay strings, as received.
    """
    root: dict[str, Any] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        match = _NAME.fullmatch(name)
        if match is None:
            raise _ApiError(400, f"Invalid parameter name: {name}", param=name)
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for depth, part in enumerate(path):
            key = part if part != "" else str(len(node))
            if depth == len(path) - 1:
                if isinstance(node.get(key), dict):
                    raise _ApiError(400, "Invalid object", param=name)
                node[key] = value
            else:
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    raise _ApiError(400, "Invalid object", param=name)
                node = child
    return _listify(root, None)


def _listify(node: Any, key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v, k) for k, v in node.items()}
    if key != "metadata" and items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _int(value: Any, param: str, minimum: int | None = None) -> int:
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        number = int(value)
    else:
        raise _ApiError(400, f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    if minimum is not None and number < minimum:
        raise _ApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def _object(value: Any, param: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _ApiError(400, "Invalid object", param=param)
    return value


def _metadata(value: Any, param: str) -> dict[str, str]:
    metadata = _object(value, param)
    if len(metadata) > 50:
        raise _ApiError(400, "You can have at most 50 metadata keys.", param=param)
    for key, item in metadata.items():
        if not isinstance(item, str):
            raise _ApiError(400, f"Invalid value type: {{}} must be a string under key `{key}`", param=param)
        if len(key) > 40:
            raise _ApiError(400, f"Metadata keys can have up to 40 characters; `{key}` has {len(key)}.", param=param)
        if len(item) > 500:
            raise _ApiError(
                400, f"Metadata values can have up to 500 characters; `{key}` has {len(item)}.", param=param
            )
    return dict(metadata)


def _sdk_param_names(module: str, name: str) -> frozenset[str] | None:
    """Parameter names the installed SDK declares for an endpoint (None if it cannot be read)."""
    try:
        params = getattr(importlib.import_module(module), name)
        options = importlib.import_module("stripe._request_options").RequestOptions
    except (ImportError, AttributeError):
        return None
    return frozenset(params.__annotations__) - frozenset(options.__annotations__)


_CHECKOUT = "stripe.params.checkout._session_create_params"
SESSION_PARAMS = _sdk_param_names(_CHECKOUT, "SessionCreateParams")
LINE_ITEM_PARAMS = _sdk_param_names(_CHECKOUT, "SessionCreateParamsLineItem")
PRICE_DATA_PARAMS = _sdk_param_names(_CHECKOUT, "SessionCreateParamsLineItemPriceData")
PRODUCT_DATA_PARAMS = _sdk_param_names(_CHECKOUT, "SessionCreateParamsLineItemPriceDataProductData")
EXPIRE_PARAMS = _sdk_param_names("stripe.params.checkout._session_expire_params", "SessionExpireParams")
REFUND_PARAMS = _sdk_param_names("stripe.params._refund_create_params", "RefundCreateParams")


def _reject_unknown(params: dict[str, Any], known: frozenset[str] | None, where: str = "") -> None:
    if known is None:
        return
    for key in params:
        if key not in known:
            name = f"{where}[{key}]" if where else key
            raise _ApiError(400, f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def _money(amount: int, currency: str) -> str:
    return f"{Decimal(amount) / 100:.2f} {currency.upper()}"


# --- The server ----------------------------------------------------------------------------------


class RecordedRequest(NamedTuple):
    """One request as received. ``body`` is the parsed form (the query string for GET);
    ``headers`` has lower-cased names."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _SessionPrivate:
    """What Stripe keeps about a session but does not show on the Checkout Session object."""

    line_items: list[dict[str, Any]]
    payment_intent_data: dict[str, Any]
    payment_intent: str | None = None


_Route = Callable[[dict[str, Any], str], dict[str, Any]]


class FakeStripe(LoopbackFake):
    """A Stripe API on ``127.0.0.1`` with a free port, served from a background thread.

    State the test can read once a call has returned: ``requests`` (every ``RecordedRequest``
    received, rejected ones included), ``sessions`` (id -> the Checkout Session object as served),
    ``payment_intents``, ``charges``, ``refunds`` (id -> object), ``events`` (every event built)
    and ``prices`` (registered with ``add_price``).
    """

    def __init__(self, *, host: str = "127.0.0.1", api_version: str = API_VERSION) -> None:
        super().__init__(host)
        self.api_version = api_version
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.prices: dict[str, dict[str, Any]] = {}
        self._private: dict[str, _SessionPrivate] = {}
        self._idempotent: dict[tuple[str, str], tuple[tuple[str, str, dict[str, Any]], Response]] = {}
        self._lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], _Route]] = [
            ("POST", re.compile(r"/v1/checkout/sessions"), self._create_session),
            ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), self._retrieve_session),
            ("POST", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"), self._expire_session),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/(?P<id>[^/]+)"), self._retrieve("refund", self.refunds)),
            (
                "GET",
                re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"),
                self._retrieve("payment_intent", self.payment_intents),
            ),
            ("GET", re.compile(r"/v1/charges/(?P<id>[^/]+)"), self._retrieve("charge", self.charges)),
        ]

    @contextlib.contextmanager
    def installed(self, api_key: str | None = None) -> Iterator[FakeStripe]:
        """Point ``stripe.api_base`` (and ``stripe.api_key`` if given) here; restore them after."""
        saved = stripe.api_base, stripe.api_key
        stripe.api_base = self.url
        if api_key is not None:
            stripe.api_key = api_key
        try:
            yield self
        finally:
            stripe.api_base, stripe.api_key = saved

    def add_price(self, unit_amount: int, currency: str, *, price_id: str | None = None) -> str:
        """Register a Price so line items can use ``price=<id>`` instead of ``price_data``."""
        price_id = price_id or _random_id("price_")
        with self._lock:
            self.prices[price_id] = {
                "id": price_id,
                "object": "price",
                "unit_amount": unit_amount,
                "currency": currency.lower(),
            }
        return price_id

    # -- event builders (no HTTP) --

    def complete_session(self, session_id: str) -> dict[str, Any]:
        """The customer paid: the session becomes ``complete``/``paid`` with a succeeded PaymentIntent.

        Returns the ``checkout.session.completed`` event carrying the full session.
        """
        with self._lock:
            checkout = self._session_for_event(session_id)
            if checkout["status"] == "expired":
                raise ValueError(f"{session_id} has expired and cannot be completed")
            intent = self._succeed(session_id)
            checkout.update(
                status="complete",
                payment_status="paid",
                payment_intent=intent["id"],
                url=None,
                customer_details={
                    "address": None,
                    "email": checkout["customer_email"],
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            return self._event("checkout.session.completed", checkout)

    def payment_intent_succeeded(self, session_id: str) -> dict[str, Any]:
        """``payment_intent.succeeded`` for the session's PaymentIntent (created if needed).

        Its ``metadata`` is the session's ``payment_intent_data[metadata]``, as Stripe copies it.
        The session itself is left as it is (``complete_session`` completes it).
        """
        with self._lock:
            return self._event("payment_intent.succeeded", self._succeed(session_id))

    def payment_intent_failed(self, session_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        """``payment_intent.payment_failed``: a card decline; the PaymentIntent waits for a new method."""
        with self._lock:
            intent = self._ensure_intent(session_id)
            if intent["status"] == "succeeded":
                raise ValueError(f"{intent['id']} has already succeeded")
            charge = self._new_charge(intent, succeeded=False, failure_message=message)
            intent.update(
                status="requires_payment_method",
                latest_charge=charge["id"],
                last_payment_error={
                    "charge": charge["id"],
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                    "message": message,
                    "type": "card_error",
                },
            )
            return self._event("payment_intent.payment_failed", intent)

    def charge_refunded(self, session_id: str, amount_refunded: int | None = None) -> dict[str, Any]:
        """``charge.refunded`` for the session's successful charge.

        ``amount_refunded`` records a new refund of that amount now (as if made in the Dashboard).
        Left out, no new refund is made if refunds already went through ``POST /v1/refunds`` (the
        event then describes them), otherwise the whole charge is refunded. The charge's
        ``amount_refunded`` is cumulative and ``refunded`` turns true once it equals ``amount``.
        """
        with self._lock:
            intent = self._ensure_intent(session_id)
            if intent["status"] != "succeeded":
                raise ValueError(f"{intent['id']} has no successful charge to refund")
            charge = self.charges[intent["latest_charge"]]
            remaining = charge["amount"] - charge["amount_refunded"]
            if amount_refunded is None and charge["amount_refunded"] == 0:
                amount_refunded = remaining
            if amount_refunded is not None:
                if not 0 < amount_refunded <= remaining:
                    raise ValueError(f"cannot refund {amount_refunded}: {remaining} of {charge['id']} is refundable")
                self._apply_refund(charge, amount_refunded, reason=None, metadata={})
            return self._event("charge.refunded", charge)

    # -- state changes shared by HTTP and builders --

    def _session_for_event(self, session_id: str) -> dict[str, Any]:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise KeyError(f"FakeStripe has no Checkout Session {session_id!r}") from None

    def _ensure_intent(self, session_id: str) -> dict[str, Any]:
        checkout = self._session_for_event(session_id)
        private = self._private[session_id]
        if private.payment_intent is None:
            intent_id = _random_id("pi_")
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": checkout["amount_total"],
                "amount_capturable": 0,
                "amount_received": 0,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": private.payment_intent_data.get("capture_method", "automatic"),
                "created": int(time.time()),
                "currency": checkout["currency"],
                "customer": checkout["customer"],
                "description": private.payment_intent_data.get("description"),
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(private.payment_intent_data.get("metadata", {})),
                "payment_method": None,
                "payment_method_types": ["card"],
                "receipt_email": private.payment_intent_data.get("receipt_email"),
                "status": "requires_payment_method",
            }
            private.payment_intent = intent_id
            checkout["payment_intent"] = intent_id
        return self.payment_intents[private.payment_intent]

    def _succeed(self, session_id: str) -> dict[str, Any]:
        intent = self._ensure_intent(session_id)
        if intent["status"] != "succeeded":
            charge = self._new_charge(intent, succeeded=True)
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
                payment_method=charge["payment_method"],
            )
        return intent

    def _new_charge(
        self, intent: dict[str, Any], *, succeeded: bool, failure_message: str | None = None
    ) -> dict[str, Any]:
        charge_id = _random_id("ch_")
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "captured": succeeded,
            "created": int(time.time()),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None if succeeded else failure_message,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": _random_id("pm_"),
            "refunded": False,
            "status": "succeeded" if succeeded else "failed",
        }
        return self.charges[charge_id]

    def _apply_refund(
        self, charge: dict[str, Any], amount: int, *, reason: str | None, metadata: dict[str, str]
    ) -> dict[str, Any]:
        refund_id = _random_id("re_")
        self.refunds[refund_id] = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": _random_id("txn_"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self.refunds[refund_id]

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": _random_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(event)
        return copy.deepcopy(event)

    # -- HTTP --

    def _handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Response:
        with self._lock:
            split = urlsplit(target)
            path = split.path
            try:
                params = parse_form(raw.decode("utf-8", "replace") if method == "POST" else split.query)
            except _ApiError as error:
                self.requests.append(RecordedRequest(method, path, {}, headers))
                return self._error(error, headers)
            self.requests.append(RecordedRequest(method, path, params, headers))
            if method == "GET" and path.startswith("/pay/"):
                return self._checkout_page(path.removeprefix("/pay/"))
            try:
                api_key = self._authenticate(headers)
                for route_method, pattern, route in self._routes:
                    match = pattern.fullmatch(path)
                    if match and route_method == method:
                        return self._call(
                            route, params, match.groupdict().get("id", ""), method, path, api_key, headers
                        )
                raise _ApiError(
                    404,
                    f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                    "or we can help at https://support.stripe.com/.",
                )
            except _ApiError as error:
                return self._error(error, headers)

    def _call(
        self,
        route: _Route,
        params: dict[str, Any],
        object_id: str,
        method: str,
        path: str,
        api_key: str,
        headers: dict[str, str],
    ) -> Response:
        key = headers.get("idempotency-key") if method == "POST" else None
        fingerprint = (method, path, params)
        if key:
            stored = self._idempotent.get((api_key, key))
            if stored is not None:
                if stored[0] != fingerprint:
                    raise _ApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                replay = stored[1]
                return Response(replay.status, replay.body, headers={**replay.headers, "Idempotent-Replayed": "true"})
        response = self._json(200, route(params, object_id), headers)
        if key:
            self._idempotent[(api_key, key)] = (copy.deepcopy(fingerprint), response)
        return response

    def _authenticate(self, headers: dict[str, str]) -> str:
        auth = headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                key = base64.b64decode(credentials).decode("utf-8").partition(":")[0]
        if not key:
            raise _ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
            )
        if not key.startswith(TEST_KEY_PREFIX) or len(key) <= len(TEST_KEY_PREFIX):
            masked = f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}" if len(key) > 12 else "****"
            raise _ApiError(401, f"Invalid API Key provided: {masked}", code="api_key_invalid")
        return key

    def _json(self, status: int, obj: dict[str, Any], headers: dict[str, str]) -> Response:
        response_headers = {
            "Request-Id": _random_id("req_", 14),
            "Stripe-Version": headers.get("stripe-version", self.api_version),
        }
        if "idempotency-key" in headers:
            response_headers["Idempotency-Key"] = headers["idempotency-key"]
        return Response(status, json.dumps(obj, indent=2).encode("utf-8"), headers=response_headers)

    def _error(self, error: _ApiError, headers: dict[str, str]) -> Response:
        return self._json(error.status, error.body(), headers)

    def _checkout_page(self, session_id: str) -> Response:
        checkout = self.sessions.get(session_id)
        if checkout is None:
            return Response(404, b"<!doctype html><title>Not found</title>", "text/html; charset=utf-8")
        text = (
            "<!doctype html><title>Fake Stripe Checkout</title>"
            f"<h1>Fake Stripe Checkout</h1><p id='session'>{html.escape(session_id)}</p>"
            f"<p id='amount'>{_money(checkout['amount_total'], checkout['currency'])}</p>"
            f"<p id='status'>{html.escape(checkout['status'])}</p>"
        )
        return Response(200, text.encode("utf-8"), "text/html; charset=utf-8")

    # -- endpoints --

    def _retrieve(self, kind: str, store: dict[str, dict[str, Any]]) -> _Route:
        def route(params: dict[str, Any], object_id: str) -> dict[str, Any]:
            if object_id not in store:
                raise _no_such(kind, object_id, "id")
            return store[object_id]

        return route

    def _retrieve_session(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise _no_such("checkout.session", session_id, "session")
        return self.sessions[session_id]

    def _expire_session(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        _reject_unknown(params, EXPIRE_PARAMS)
        checkout = self._retrieve_session(params, session_id)
        if checkout["status"] != "open":
            raise _ApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{checkout["status"]}".',
            )
        checkout.update(status="expired", url=None)
        return checkout

    def _create_session(self, params: dict[str, Any], _: str) -> dict[str, Any]:
        _reject_unknown(params, SESSION_PARAMS)
        mode = params.get("mode")
        if not mode:
            raise _missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise _ApiError(400, "Invalid mode: must be one of payment, setup, or subscription", param="mode")
        if mode != "payment":
            raise _ApiError(400, f"FakeStripe implements only mode=payment, not {mode}", param="mode")
        ui_mode = params.get("ui_mode", "hosted")
        if ui_mode == "hosted" and not params.get("success_url"):
            raise _missing("success_url")
        if params.get("customer") and params.get("customer_email"):
            raise _ApiError(
                400, "You may only specify one of these parameters: customer, customer_email.", param="customer_email"
            )
        line_items = params.get("line_items")
        if not line_items:
            raise _missing("line_items")
        if not isinstance(line_items, list):
            raise _ApiError(400, "Invalid array", param="line_items")
        total = Decimal(0)
        currency: str | None = None
        for index, item in enumerate(line_items):
            where = f"line_items[{index}]"
            amount, item_currency = self._line_item(item, where)
            if currency is not None and item_currency != currency:
                raise _ApiError(
                    400, "All line items must use the same currency.", param=f"{where}[price_data][currency]"
                )
            currency = item_currency
            total += amount
        metadata = _metadata(params.get("metadata"), "metadata")
        intent_data = dict(_object(params.get("payment_intent_data"), "payment_intent_data"))
        intent_data["metadata"] = _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]")
        now = int(time.time())
        expires_at = now + SESSION_LIFETIME
        if "expires_at" in params:
            expires_at = _int(params["expires_at"], "expires_at")
            if not now + 1800 <= expires_at <= now + SESSION_LIFETIME:
                raise _ApiError(
                    400,
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours after Checkout Session creation.",
                    param="expires_at",
                )
        amount_total = int(total.to_integral_value(ROUND_HALF_UP))
        session_id = _random_id("cs_test_", 58)
        payment_method_types = params.get("payment_method_types")
        checkout: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount_total,
            "amount_total": amount_total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": params.get("customer"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_method_types": payment_method_types if isinstance(payment_method_types, list) else ["card"],
            "payment_status": "unpaid",
            "return_url": params.get("return_url"),
            "status": "open",
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": ui_mode,
            "url": f"{self.url}/pay/{session_id}" if ui_mode == "hosted" else None,
        }
        self.sessions[session_id] = checkout
        self._private[session_id] = _SessionPrivate(line_items=line_items, payment_intent_data=intent_data)
        return checkout

    def _line_item(self, item: Any, where: str) -> tuple[Decimal, str]:
        if not isinstance(item, dict):
            raise _ApiError(400, "Invalid object", param=where)
        _reject_unknown(item, LINE_ITEM_PARAMS, where)
        price_id, price_data = item.get("price"), item.get("price_data")
        if price_id and price_data:
            raise _ApiError(400, "You may only specify one of these parameters: price, price_data.", param=where)
        if not price_id and not price_data:
            raise _ApiError(400, f"You must specify either `price` or `price_data` in `{where}`.", param=where)
        if "quantity" not in item:
            raise _ApiError(400, f"Quantity is required. Add `quantity` to `{where}`.", param=f"{where}[quantity]")
        quantity = _int(item["quantity"], f"{where}[quantity]", minimum=1)
        if price_id:
            price = self.prices.get(price_id)
            if price is None:
                raise _no_such("price", price_id, f"{where}[price]", status=400)
            return Decimal(price["unit_amount"]) * quantity, price["currency"]
        unit_amount, currency = self._price_data(price_data, f"{where}[price_data]")
        return unit_amount * quantity, currency

    @staticmethod
    def _price_data(data: Any, where: str) -> tuple[Decimal, str]:
        if not isinstance(data, dict):
            raise _ApiError(400, "Invalid object", param=where)
        _reject_unknown(data, PRICE_DATA_PARAMS, where)
        currency = data.get("currency")
        if not currency:
            raise _missing(f"{where}[currency]")
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise _ApiError(400, f"Invalid currency: {currency}.", param=f"{where}[currency]")
        product_data = data.get("product_data")
        if not data.get("product") and not product_data:
            raise _ApiError(400, f"You must specify either `product` or `product_data` in `{where}`.", param=where)
        if product_data:
            product_data = _object(product_data, f"{where}[product_data]")
            _reject_unknown(product_data, PRODUCT_DATA_PARAMS, f"{where}[product_data]")
            if not product_data.get("name"):
                raise _missing(f"{where}[product_data][name]")
        if "unit_amount" in data:
            return Decimal(_int(data["unit_amount"], f"{where}[unit_amount]", minimum=0)), currency.lower()
        if "unit_amount_decimal" in data:
            try:
                return Decimal(data["unit_amount_decimal"]), currency.lower()
            except InvalidOperation:
                raise _ApiError(
                    400, f"Invalid decimal: {data['unit_amount_decimal']}", param=f"{where}[unit_amount_decimal]"
                ) from None
        raise _ApiError(
            400, f"You must specify either `unit_amount` or `unit_amount_decimal` in `{where}`.", param=where
        )

    def _create_refund(self, params: dict[str, Any], _: str) -> dict[str, Any]:
        _reject_unknown(params, REFUND_PARAMS)
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id and charge_id:
            raise _ApiError(
                400, "You may only specify one of these parameters: charge, payment_intent.", param="charge"
            )
        if intent_id:
            intent = self.payment_intents.get(intent_id)
            if intent is None:
                raise _no_such("payment_intent", intent_id, "payment_intent", status=400)
            if intent["status"] != "succeeded":
                raise _ApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = self.charges[intent["latest_charge"]]
        elif charge_id:
            if charge_id not in self.charges:
                raise _no_such("charge", charge_id, "charge", status=400)
            charge = self.charges[charge_id]
            if charge["status"] != "succeeded":
                raise _ApiError(400, f"Charge {charge_id} has not succeeded and cannot be refunded.", param="charge")
        else:
            raise _ApiError(
                400, "One of the following params should be provided for this request: payment_intent or charge."
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise _ApiError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = _int(params["amount"], "amount", minimum=1) if "amount" in params else remaining
        if amount > remaining:
            raise _ApiError(
                400,
                f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded amount on charge "
                f"({_money(remaining, charge['currency'])})",
                param="amount",
            )
        reason = params.get("reason") or None
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise _ApiError(
                400, "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
            )
        return self._apply_refund(charge, amount, reason=reason, metadata=_metadata(params.get("metadata"), "metadata"))
