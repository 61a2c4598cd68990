"""The fake Stripe API answers the real stripe-python SDK, sync and async, like Stripe does.

Over 400 lines on purpose: it holds the fake to Stripe's behaviour route by route, beside the fake it checks.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from tests.fakes.stripe_server import FakeStripe, event_body, parse_form, sign

KEY = "sk_test_fake_key"
SECRET = "whsec_test_secret"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def api(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    """The SDK pointed at the fake through its own seam; monkeypatch restores api_base afterwards."""
    monkeypatch.setattr(stripe, "api_base", fake.url)
    return fake


def checkout_params(payment_id: int = 7, **overrides: Any) -> dict[str, Any]:
    """What payments/providers.py sends."""
    metadata = {"payment_id": str(payment_id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "eur", "unit_amount": 12_550, "product_data": {"name": "Invoice 2024-17"}},
                "quantity": 1,
            },
            {
                "price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "Reminder fee"}},
                "quantity": 2,
            },
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "client_reference_id": str(payment_id),
        "success_url": "https://example.test/paid",
        "cancel_url": "https://example.test/cancelled",
        "locale": "en-GB",
        "customer_email": "debtor@example.test",
    }
    params.update(overrides)
    return params


async def create(**overrides: Any) -> stripe.checkout.Session:
    return await stripe.checkout.Session.create_async(api_key=KEY, **checkout_params(**overrides))


def construct(event: dict[str, Any]) -> stripe.Event:
    body = event_body(event)
    return stripe.Webhook.construct_event(body, sign(body, SECRET), SECRET)


# --- Checkout Sessions through the SDK -------------------------------------------------------------


async def test_create_async_returns_a_checkout_session(api: FakeStripe) -> None:
    created = await create()

    assert created.id.startswith("cs_test_")
    assert created.object == "checkout.session"
    assert created.url == f"{api.url}/pay/{created.id}"
    assert created.amount_total == 12_550 + 2 * 500
    assert created.currency == "eur"
    assert (created.mode, created.status, created.payment_status) == ("payment", "open", "unpaid")
    assert created.payment_intent is None
    assert created.metadata is not None
    assert created.metadata.to_dict() == {"payment_id": "7"}
    assert created.client_reference_id == "7"
    assert created.success_url == "https://example.test/paid"
    assert created.cancel_url == "https://example.test/cancelled"
    assert created.customer_email == "debtor@example.test"
    assert created.expires_at - created.created == 24 * 3600
    assert api.sessions[created.id]["amount_total"] == 13_550


async def test_the_request_is_recorded_with_nested_form_parameters(api: FakeStripe) -> None:
    await create(payment_id=42)

    method, path, body, headers = api.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert body["line_items"][0] == {
        "price_data": {"currency": "eur", "unit_amount": "12550", "product_data": {"name": "Invoice 2024-17"}},
        "quantity": "1",
    }
    assert body["line_items"][1]["quantity"] == "2"
    assert body["metadata"] == {"payment_id": "42"}
    assert body["payment_intent_data"] == {"metadata": {"payment_id": "42"}}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["idempotency-key"]  # the SDK sends one with every POST


async def test_retrieve_async_returns_the_stored_session(api: FakeStripe) -> None:
    created = await create()

    fetched = await stripe.checkout.Session.retrieve_async(created.id, api_key=KEY)

    assert fetched.to_dict() == created.to_dict()
    assert api.requests[-1].method == "GET"
    assert api.requests[-1].path == f"/v1/checkout/sessions/{created.id}"


async def test_unknown_session_is_a_404_resource_missing(api: FakeStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe.checkout.Session.retrieve_async("cs_test_nope", api_key=KEY)

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert "No such checkout.session: 'cs_test_nope'" in str(raised.value)


def test_sync_calls_work_with_the_default_http_client(api: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "default_http_client", None)  # let the SDK pick, as it does by default

    created = stripe.checkout.Session.create(api_key=KEY, **checkout_params())
    fetched = stripe.checkout.Session.retrieve(created.id, api_key=KEY)

    assert fetched.id == created.id
    assert fetched.amount_total == 13_550


async def test_async_calls_work_with_the_default_http_client(api: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "default_http_client", None)

    created = await create()

    # The lazily built default: RequestsClient for sync calls, HTTPXClient for *_async ones.
    client = stripe.default_http_client
    assert isinstance(client, stripe.RequestsClient)
    assert isinstance(client._async_fallback_client, stripe.HTTPXClient)
    assert created.id in api.sessions


async def test_httpx_client_with_sync_methods_serves_both(api: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "default_http_client", stripe.HTTPXClient(allow_sync_methods=True))

    created = await create()
    fetched = stripe.checkout.Session.retrieve(created.id, api_key=KEY)

    assert fetched.id == created.id


async def test_httpx_client_without_sync_methods_serves_only_async(
    api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What payments/providers.py configures: async is fine, a sync call would fail."""
    monkeypatch.setattr(stripe, "default_http_client", stripe.HTTPXClient())

    created = await create()

    assert created.id in api.sessions
    with pytest.raises(RuntimeError, match="allow_sync_methods"):
        stripe.checkout.Session.retrieve(created.id, api_key=KEY)


async def test_stripe_client_base_addresses_also_reach_the_fake(fake: FakeStripe) -> None:
    client = stripe.StripeClient(KEY, base_addresses={"api": fake.url})

    created = await client.v1.checkout.sessions.create_async(checkout_params())  # type: ignore[arg-type]

    assert created.id in fake.sessions


def test_installed_points_the_sdk_at_the_fake_and_restores_it(fake: FakeStripe) -> None:
    before = stripe.api_base, stripe.api_key
    with fake.installed(api_key=KEY):
        assert stripe.api_base == fake.url
        created = stripe.checkout.Session.create(**checkout_params())
    assert (stripe.api_base, stripe.api_key) == before
    assert created.id in fake.sessions


# --- Idempotency -----------------------------------------------------------------------------------


async def test_same_idempotency_key_returns_the_same_session(api: FakeStripe) -> None:
    first = await stripe.checkout.Session.create_async(api_key=KEY, idempotency_key="checkout-7", **checkout_params())
    again = await stripe.checkout.Session.create_async(api_key=KEY, idempotency_key="checkout-7", **checkout_params())

    assert again.id == first.id
    assert again.to_dict() == first.to_dict()
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(api.sessions) == 1
    assert len(api.requests) == 2


async def test_idempotency_key_reused_with_other_parameters_is_refused(api: FakeStripe) -> None:
    await stripe.checkout.Session.create_async(api_key=KEY, idempotency_key="checkout-7", **checkout_params())

    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await stripe.checkout.Session.create_async(
            api_key=KEY, idempotency_key="checkout-7", **checkout_params(client_reference_id="8")
        )
    assert len(api.sessions) == 1


async def test_idempotency_keys_are_scoped_to_the_api_key(api: FakeStripe) -> None:
    first = await stripe.checkout.Session.create_async(api_key=KEY, idempotency_key="k", **checkout_params())
    other = await stripe.checkout.Session.create_async(api_key=KEY + "2", idempotency_key="k", **checkout_params())

    assert other.id != first.id


async def test_failed_validation_does_not_use_up_the_idempotency_key(api: FakeStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        await stripe.checkout.Session.create_async(
            api_key=KEY, idempotency_key="k", **checkout_params(success_url=None)
        )

    created = await stripe.checkout.Session.create_async(api_key=KEY, idempotency_key="k", **checkout_params())
    assert created.id in api.sessions


# --- Errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_key", ["sk_live_abcdefghijklmnop", "rk_test_abcdef", "sk_test_"])
async def test_a_key_that_is_not_a_test_secret_key_is_a_401(api: FakeStripe, api_key: str) -> None:
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key provided") as raised:
        await stripe.checkout.Session.create_async(api_key=api_key, **checkout_params())

    assert raised.value.http_status == 401
    assert api.sessions == {}


def test_errors_have_stripes_json_shape(fake: FakeStripe) -> None:
    request = urllib.request.Request(f"{fake.url}/v1/checkout/sessions", data=b"mode=payment", method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 401
    error = json.loads(raised.value.read())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


def test_unknown_urls_are_stripe_shaped_404s(fake: FakeStripe) -> None:
    request = urllib.request.Request(f"{fake.url}/v1/customers", headers={"Authorization": f"Bearer {KEY}"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 404
    assert json.loads(raised.value.read())["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/customers)"
    )


@pytest.mark.parametrize(
    ("overrides", "param", "message"),
    [
        ({"mode": None}, "mode", "Missing required param: mode."),
        ({"mode": "bogus"}, "mode", "Invalid mode"),
        ({"success_url": None}, "success_url", "Missing required param: success_url."),
        ({"line_items": None}, "line_items", "Missing required param: line_items."),
        (
            {"line_items": [{"price_data": {"currency": "eur", "unit_amount": 1}}]},
            "line_items[0][quantity]",
            "Quantity is required",
        ),
        (
            {"line_items": [{"quantity": 1, "price_data": {"unit_amount": 100, "product_data": {"name": "x"}}}]},
            "line_items[0][price_data][currency]",
            "Missing required param",
        ),
        (
            {"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 100}}]},
            "line_items[0][price_data]",
            "`product` or `product_data`",
        ),
        (
            {"line_items": [{"quantity": 0, "price": "price_x"}]},
            "line_items[0][quantity]",
            "greater than or equal to 1",
        ),
        ({"line_items": [{"quantity": 1, "price": "price_nope"}]}, "line_items[0][price]", "No such price"),
        ({"amount": 1000}, "amount", "Received unknown parameter: amount"),
        ({"metadata": {"k" * 41: "v"}}, "metadata", "up to 40 characters"),
    ],
)
async def test_invalid_parameters_are_400s(
    api: FakeStripe, overrides: dict[str, Any], param: str, message: str
) -> None:
    params = {k: v for k, v in checkout_params(**overrides).items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError, match=message) as raised:
        await stripe.checkout.Session.create_async(api_key=KEY, **params)

    assert raised.value.http_status == 400
    assert raised.value.param == param
    assert raised.value.error is not None
    assert raised.value.error.type == "invalid_request_error"
    assert api.sessions == {}


async def test_line_items_can_use_a_registered_price(api: FakeStripe) -> None:
    price = api.add_price(2_000, "SEK")

    created = await create(line_items=[{"price": price, "quantity": 3}])

    assert (created.amount_total, created.currency) == (6_000, "sek")


async def test_expire_closes_an_open_session(api: FakeStripe) -> None:
    created = await create()

    expired = await stripe.checkout.Session.expire_async(created.id, api_key=KEY)

    assert (expired.id, expired.status, expired.url) == (created.id, "expired", None)
    assert api.sessions[created.id]["status"] == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        await stripe.checkout.Session.expire_async(created.id, api_key=KEY)
    with pytest.raises(ValueError, match="expired"):
        api.complete_session(created.id)


def test_the_checkout_page_is_served(fake: FakeStripe) -> None:
    with fake.installed(api_key=KEY):
        created = stripe.checkout.Session.create(**checkout_params())
    assert created.url is not None
    with urllib.request.urlopen(created.url, timeout=5) as page:
        text = page.read().decode()

    assert created.id in text
    assert "135.50 EUR" in text


# --- Events and webhook signatures -----------------------------------------------------------------


async def test_complete_session_builds_checkout_session_completed(api: FakeStripe) -> None:
    created = await create()

    event = api.complete_session(created.id)

    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["type"] == "checkout.session.completed"
    assert event["api_version"] == "2024-06-20"
    assert (event["livemode"], event["pending_webhooks"]) == (False, 1)
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert abs(event["created"] - time.time()) < 60
    completed = event["data"]["object"]
    assert completed["id"] == created.id
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["payment_intent"].startswith("pi_")
    assert completed["metadata"] == {"payment_id": "7"}
    assert completed["amount_total"] == 13_550
    assert completed["customer_details"]["email"] == "debtor@example.test"
    # the stored session changed too, and the SDK sees it
    fetched = await stripe.checkout.Session.retrieve_async(created.id, api_key=KEY)
    assert (fetched.status, fetched.payment_intent) == ("complete", completed["payment_intent"])


async def test_payment_intent_succeeded_carries_payment_intent_data_metadata(api: FakeStripe) -> None:
    created = await create(metadata={"payment_id": "7", "only_on": "session"})
    completed = api.complete_session(created.id)["data"]["object"]

    event = api.payment_intent_succeeded(created.id)

    assert event["type"] == "payment_intent.succeeded"
    intent = event["data"]["object"]
    assert intent["object"] == "payment_intent"
    assert intent["id"] == completed["payment_intent"]
    assert (intent["amount"], intent["amount_received"], intent["currency"]) == (13_550, 13_550, "eur")
    assert intent["status"] == "succeeded"
    assert intent["metadata"] == {"payment_id": "7"}  # payment_intent_data[metadata], not the session's
    assert intent["latest_charge"].startswith("ch_")


async def test_payment_intent_succeeded_first_then_completion_share_the_intent(api: FakeStripe) -> None:
    created = await create()

    intent = api.payment_intent_succeeded(created.id)["data"]["object"]
    completed = api.complete_session(created.id)["data"]["object"]

    assert completed["payment_intent"] == intent["id"]


async def test_payment_intent_failed_is_a_card_decline(api: FakeStripe) -> None:
    created = await create()

    event = api.payment_intent_failed(created.id, message="Your card has insufficient funds.")

    assert event["type"] == "payment_intent.payment_failed"
    intent = event["data"]["object"]
    assert intent["status"] == "requires_payment_method"
    assert intent["amount_received"] == 0
    assert intent["metadata"] == {"payment_id": "7"}
    assert intent["last_payment_error"]["message"] == "Your card has insufficient funds."
    assert intent["last_payment_error"]["code"] == "card_declined"
    assert api.sessions[created.id]["status"] == "open"
    # the customer retries and pays with the same PaymentIntent
    assert api.payment_intent_succeeded(created.id)["data"]["object"]["id"] == intent["id"]


async def test_refunds_through_the_api_and_charge_refunded_events(api: FakeStripe) -> None:
    created = await create()
    intent_id = api.complete_session(created.id)["data"]["object"]["payment_intent"]

    refund = await stripe.Refund.create_async(api_key=KEY, payment_intent=intent_id, amount=3_550)

    assert refund.id.startswith("re_")
    assert (refund.object, refund.status) == ("refund", "succeeded")
    assert (refund.amount, refund.currency, refund.payment_intent) == (3_550, "eur", intent_id)
    charge = api.charge_refunded(created.id)["data"]["object"]  # describes the refund made above
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (13_550, 3_550, False)
    assert charge["payment_intent"] == intent_id
    assert charge["metadata"] == {"payment_id": "7"}

    event = api.charge_refunded(created.id, 10_000)  # refunds the rest, e.g. from the Dashboard

    assert event["type"] == "charge.refunded"
    charge = event["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"], charge["currency"]) == (13_550, True, "eur")
    with pytest.raises(stripe.InvalidRequestError, match="already been refunded"):
        await stripe.Refund.create_async(api_key=KEY, payment_intent=intent_id)


async def test_refund_without_amount_refunds_everything_and_too_much_is_refused(api: FakeStripe) -> None:
    created = await create()
    intent_id = api.payment_intent_succeeded(created.id)["data"]["object"]["id"]

    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded amount") as raised:
        await stripe.Refund.create_async(api_key=KEY, payment_intent=intent_id, amount=99_999)
    assert raised.value.param == "amount"

    refund = await stripe.Refund.create_async(api_key=KEY, payment_intent=intent_id)
    assert refund.amount == 13_550
    assert api.charge_refunded(created.id)["data"]["object"]["refunded"] is True


async def test_refunding_an_unpaid_or_unknown_payment_intent_is_refused(api: FakeStripe) -> None:
    created = await create()
    intent_id = api.payment_intent_failed(created.id)["data"]["object"]["id"]

    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        await stripe.Refund.create_async(api_key=KEY, payment_intent=intent_id)
    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent"):
        await stripe.Refund.create_async(api_key=KEY, payment_intent="pi_nope")
    with pytest.raises(ValueError, match="no successful charge"):
        api.charge_refunded(created.id)


async def test_every_built_event_passes_stripes_signature_check(api: FakeStripe) -> None:
    declined = await create(payment_id=1)
    paid = await create(payment_id=2)
    events = [
        api.payment_intent_failed(declined.id),
        api.complete_session(paid.id),
        api.payment_intent_succeeded(paid.id),
        api.charge_refunded(paid.id, 550),
    ]

    for event in events:
        constructed = construct(event)
        assert isinstance(constructed, stripe.Event)
        assert constructed.id == event["id"]
        assert constructed.type == event["type"]
        assert constructed.data.object.to_dict() == event["data"]["object"]
    assert api.events == events


async def test_tampered_body_wrong_secret_or_stale_timestamp_are_rejected(api: FakeStripe) -> None:
    created = await create()
    body = event_body(api.complete_session(created.id))
    header = sign(body, SECRET)
    tampered = body.replace(b'"payment_id":"7"', b'"payment_id":"8"')
    assert tampered != body

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sign(body, "whsec_other"), SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sign(body, SECRET, timestamp=int(time.time()) - 3600), SECRET)
    assert stripe.Webhook.construct_event(body.decode(), sign(body.decode(), SECRET), SECRET).type == (
        "checkout.session.completed"
    )


def test_sign_matches_the_sdk_header_format() -> None:
    header = sign(b'{"id":"evt_1"}', SECRET, timestamp=1_700_000_000)

    assert header == stripe.WebhookSignature.generate_signature_header('{"id":"evt_1"}', SECRET, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")


def test_event_body_is_compact_json() -> None:
    assert event_body({"a": {"b": [1, None]}}) == b'{"a":{"b":[1,null]}}'


# --- The server itself -----------------------------------------------------------------------------


def test_parse_form_builds_nested_dicts_and_lists() -> None:
    parsed = parse_form(
        "line_items[0][price_data][currency]=eur&line_items[1][quantity]=2&line_items[0][quantity]=1"
        "&metadata[0]=zero&metadata[payment_id]=7&payment_method_types[0]=card&expand[]=line_items&success_url="
    )

    assert parsed == {
        "line_items": [{"price_data": {"currency": "eur"}, "quantity": "1"}, {"quantity": "2"}],
        "metadata": {"0": "zero", "payment_id": "7"},
        "payment_method_types": ["card"],
        "expand": ["line_items"],
        "success_url": "",
    }


def test_url_needs_a_running_server_and_stop_closes_the_port() -> None:
    fake = FakeStripe()
    with pytest.raises(RuntimeError):
        _ = fake.url
    fake.start()
    url = fake.url
    assert url.startswith("http://127.0.0.1:")
    fake.stop()
    fake.stop()  # idempotent

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/v1/checkout/sessions/x", timeout=2)
