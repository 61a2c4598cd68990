"""/metrics (app/metrics.py) after real traffic: a signed Twilio SMS webhook into the inbox, the
worker's drain and a web chat turn through the pipeline (Rasa faked at the HTTP edge, as in
tests/pipeline_harness.py), a signed Stripe payment and a handoff case. Every metric family is
there, no label carries personal data, and only loopback or the token may read it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine, make_sessionmaker
from engine.conversations.models import Conversation
from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient
from engine.inbox import service as inbox_service
from engine.language.detector import LanguageDetector
from handoff import service as handoff_service
from handoff.models import Reason
from locales import Catalog
from payments import service as payments_service
from payments.providers import SandboxProvider
from people.debtors import service as debtors_service
from people.debtors.seed import seed_demo
from tests.fakes.twilio_server import inbound_form, signed
from tests.payments.conftest import completed
from tests.pipeline_harness import ACTIONS, RASA, FakeRasa, RecordingOutput
from tests.stack import free_port

PUBLIC = "https://assistant.example.org"
TWILIO_TOKEN = "twilio-token-for-metrics-tests-0123"
METRICS_TOKEN = "metrics-token-for-tests-0123456789"
PHONE = "+46701234567"
REFERENCE = "UK-300552"  # a demo debtor's reference, sent in the message text
WEB_SENDER = "metrics-web-session-key-1"
FAMILIES = {
    "assistant_turn_seconds",
    "assistant_webhook_ack_seconds",
    "assistant_outbound_messages",
    "assistant_payments_booked",
    "assistant_payments_booked_amount",
    "assistant_nlu_confidence",
    "assistant_inbox_depth",
    "assistant_inbox_oldest_pending_age_seconds",
    "assistant_handoff_queue_size",
    "assistant_handoff_longest_wait_seconds",
    "assistant_metrics_database_up",
}


async def _payment(url: str, settings: GatewaySettings) -> Any:
    engine = make_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed_demo(session=session)
        emily = await debtors_service.get_by_reference(session=session, reference=REFERENCE)
        assert emily
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(settings), debtor=emily, debt_ids=None, conversation_id=None,
            locale="en", descriptions={}, success_url="http://x", cancel_url="http://x", amount_minor=10000,
        )  # fmt: skip
        await session.commit()
    await engine.dispose()
    return payment


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, GatewaySettings, Any]]:
    folder: Path = tmp_path_factory.mktemp("metrics")
    url = f"sqlite+aiosqlite:///{folder / 'db.sqlite'}"
    migrate(url)
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5,
        public_base_url=PUBLIC, twilio_auth_token=TWILIO_TOKEN, twilio_account_sid="AC" + "0" * 32,
        twilio_sms_from="+46700000000", payments_sandbox=True, sandbox_secret_file=folder / "secret",
        metrics_token=METRICS_TOKEN,
    )  # fmt: skip
    payment = asyncio.run(_payment(url, settings))
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:  # a loopback scraper

        async def hold(conversation_id: str) -> None:
            """The test drains the inbox itself (below), as the worker would."""

        client.app.state.enqueue = hold  # type: ignore[attr-defined]
        yield client, settings, payment


def scrape(client: TestClient, **headers: str) -> dict[str, Any]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def value(families: dict[str, Any], family: str, sample: str, **labels: str) -> float:
    return sum(
        s.value
        for s in families[family].samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def _turns(settings: GatewaySettings) -> None:
    """The worker's drain of the inbox, and a web chat turn, with Rasa at the HTTP edge faked."""
    engine = make_engine(settings.database_url)
    http = httpx.AsyncClient(transport=httpx.MockTransport(FakeRasa()))
    pipeline = Pipeline(
        sessionmaker=make_sessionmaker(engine),
        rasa=RasaClient(rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1),
        catalog=Catalog(), detector=LanguageDetector(), settings=settings, outputs={"sms": RecordingOutput()},
    )  # fmt: skip
    async with pipeline.sessionmaker() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.external_id == PHONE))
        assert conversation is not None
        await handoff_service.escalate(
            session=session, conversation_id=conversation.id, reason=Reason.REQUEST_HUMAN, actor="test"
        )
        await session.commit()
    await inbox_service.drain(pipeline=pipeline, conversation_id=conversation.id)
    await pipeline.handle(channel="webchat", external_id=WEB_SENDER, text=f"my phone is {PHONE}, ref {REFERENCE}")
    await http.aclose()
    await engine.dispose()


def test_every_family_after_traffic_and_no_personal_data_in_labels(
    gateway: tuple[TestClient, GatewaySettings, Any],
) -> None:
    client, settings, payment = gateway
    params, signature = signed(
        PUBLIC + "/channels/twilio/sms",
        inbound_form(channel="sms", from_=PHONE, to="+46700000000", body=f"Hi, {REFERENCE}, call {PHONE}"),
        TWILIO_TOKEN,
    )
    assert (
        client.post("/channels/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    )
    assert client.post("/channels/twilio/sms", data=params, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    waiting = scrape(client)
    assert value(waiting, "assistant_inbox_depth", "assistant_inbox_depth") == 1
    assert value(waiting, "assistant_metrics_database_up", "assistant_metrics_database_up") == 1

    asyncio.run(_turns(settings))
    body = json.dumps(completed(payment, "pi_metrics")).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), settings.webhook_secret())  # type: ignore[attr-defined]
    stripe_headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    assert client.post("/payments/stripe/webhook", content=body, headers=stripe_headers).status_code == 200

    families = scrape(client)
    assert set(families) >= FAMILIES
    ack = "assistant_webhook_ack_seconds_count"
    assert value(families, "assistant_webhook_ack_seconds", ack, route="twilio_sms", status="200") >= 1
    assert value(families, "assistant_webhook_ack_seconds", ack, route="twilio_sms", status="403") >= 1
    assert value(families, "assistant_webhook_ack_seconds", ack, route="stripe", status="200") >= 1
    turns = "assistant_turn_seconds_count"
    assert value(families, "assistant_turn_seconds", turns, channel="sms") >= 1
    assert value(families, "assistant_turn_seconds", turns, channel="webchat") >= 1
    sent = "assistant_outbound_messages_total"
    assert value(families, "assistant_outbound_messages", sent, channel="sms", status="sent") >= 1
    assert value(families, "assistant_nlu_confidence", "assistant_nlu_confidence_count") >= 2
    booked = "assistant_payments_booked_total"
    assert value(families, "assistant_payments_booked", booked, currency="GBP") >= 1
    amount = "assistant_payments_booked_amount_total"
    assert value(families, "assistant_payments_booked_amount", amount, currency="GBP") >= 100.0
    assert value(families, "assistant_inbox_depth", "assistant_inbox_depth") == 0  # drained
    assert value(families, "assistant_handoff_queue_size", "assistant_handoff_queue_size") == 1
    assert value(families, "assistant_handoff_longest_wait_seconds", "assistant_handoff_longest_wait_seconds") >= 0

    labels = {v for family in families.values() for s in family.samples for v in s.labels.values()}
    digits = re.compile(r"\d{6,}")
    assert not [v for v in labels if digits.search(v.replace(".", "")) or REFERENCE in v or WEB_SENDER in v], labels


def test_metrics_refused_to_a_remote_client_without_the_token(gateway: tuple[TestClient, GatewaySettings, Any]) -> None:
    local, _, _ = gateway
    remote = TestClient(local.app, client=("203.0.113.7", 40000))  # the app is already running (local's)
    assert remote.get("/metrics").status_code == 403
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 403
    assert remote.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
    # A local reverse proxy forwarding a remote client is not a loopback client.
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403
    assert local.get("/metrics").status_code == 200
