"""docker-compose.yml's topology as processes (issue 16 point 5): the gateway, the inbox worker,
the action server and two Rasa instances (SQL tracker store on PostgreSQL, Redis lock store),
everything in the production profile with compose's settings pointed at this machine's PostgreSQL
and Redis, and no demo data. An agency's portfolio goes in through the admin API (the first admin
made with `manage create-staff`), a debtor in it is contacted, verifies and pays by SMS through
Twilio and Stripe (both faked on loopback, reached through their SDKs), and `manage
export-activity` gives the payment back by creditor and reference."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from app.manage import DEMO_ADMIN
from engine.conversations.sharding import HashRing
from people.debtors.seed import DEMO
from tests.databases import fetch
from tests.e2e.topology import (
    CREDITOR,
    STRIPE_WEBHOOK_SECRET,
    Topology,
    catalog,
    conversation_of,
    first_admin,
    new_number,
    portfolio,
    say,
    send_first_contact,
    sent_to,
    wait_answered,
    wait_for,
    webhook_calls,
)
from tests.fakes.stripe_server import event_body, sign
from tests.stack import ROOT

pytestmark = pytest.mark.e2e


def test_production_profile_without_demo_data(topology: Topology) -> None:
    """What compose's operator runs first (README): check-config finds nothing wrong with this
    configuration, everything it points at answers; migrate left no demo debtor and no demo admin."""
    stack = topology.stack
    done = stack.manage("check-config")
    assert done.stdout.strip().splitlines()[-1] == "ok (ASSISTANT_ENV=production, database postgresql)", done.stdout
    ready = httpx.get(f"{stack.gateway_url}/health/ready", timeout=30).json()
    names = {check["name"] for check in ready["checks"]}
    assert {f"rasa:{stack.rasa_url(name)}" for name in stack.rasa_names} <= names, names
    assert {"redis:queue", "redis:lock_store", "redis:rate_limits"} <= names, names
    demo = fetch(
        stack.database_url,
        "SELECT count(*) AS n FROM debtors WHERE reference = ANY($1)",
        [d["reference"] for d in DEMO],
    )
    assert demo[0]["n"] == 0
    admins = fetch(stack.database_url, "SELECT count(*) AS n FROM staff_users WHERE username = $1", DEMO_ADMIN)
    assert admins[0]["n"] == 0


# compose's settings the stack has no use for on one machine: the worker's metrics bind address,
# the privacy key (the stack shares a key file), the first model version (models-init's link).
CONTAINER_ONLY = {"WORKER_METRICS_HOST", "PRIVACY_HASH_KEY", "TRAINING_INITIAL_MODEL"}


def test_the_processes_get_what_compose_gives_them(topology: Topology) -> None:
    """Every setting docker-compose.yml hands an application service or a Rasa service, the
    stack hands its processes (with this machine's addresses), and Rasa the same endpoints file."""
    stack, compose = topology.stack, yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = stack.env()
    for name in ("gateway", "worker", "actions", "rasa-1", "rasa-2"):
        assert set(compose["services"][name]["environment"]) - CONTAINER_ONLY <= set(env), name
    assert env["ASSISTANT_ENV"] == compose["x-app-env"]["ASSISTANT_ENV"] == "production"
    command = compose["services"]["rasa-1"]["command"]
    for name in stack.rasa_names:
        ours = stack.command(name)
        assert ours[ours.index("--endpoints") + 1] == command[command.index("--endpoints") + 1], name


def test_an_imported_debtor_is_contacted_verifies_pays_and_the_export_shows_it(topology: Topology) -> None:
    stack, stripe = topology.stack, topology.stripe
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    admin = first_admin(stack)
    phone, other = new_number(), new_number()
    ours, theirs = f"NW/{uuid.uuid4().hex[:8].upper()}", f"NW/{uuid.uuid4().hex[:8].upper()}"
    local = "07700 900" + phone[-3:]  # as the agency's file has it: normalised to E.164 on import
    upload = portfolio(
        (ours, "Alice Hartley", "1985-03-14", local, "100.00", "23.45"),
        (theirs, "Bram Okafor", "1979-11-02", other, "40.00", "0.00"),
    )
    imported = httpx.post(
        f"{stack.gateway_url}/agent/api/admin/portfolio/imports", headers=admin, timeout=60,
        files={"file": ("portfolio.csv", upload, "text/csv")},
    )  # fmt: skip
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["rows"], report["rejected"], report["debtors_created"], report["debts_created"]) == (2, 0, 2, 2)
    [alice] = fetch(
        stack.database_url,
        "SELECT d.reference, d.phone FROM debtors d JOIN debts t ON t.debtor_id = d.id "
        "WHERE t.creditor = $1 AND t.reference = $2",
        CREDITOR, ours,
    )  # fmt: skip
    assert alice["phone"] == phone

    send_first_contact(topology, phone)
    ask_reference, ask_dob = (catalog.text(key, "en").split("{")[0] for key in ("utter_ask_reference", "utter_ask_dob"))
    say(topology, phone, "I want to pay my debt", lambda text: text.startswith(ask_reference))
    # Her case reference (the letter's; the first-contact link will fill it in), then her birth date.
    dob = say(topology, phone, alice["reference"], lambda text: text.startswith(ask_dob))
    assert CREDITOR not in dob and "123.45" not in dob  # nothing about the debt before verification
    link_text = say(topology, phone, "14/03/1985", lambda text: stripe.url in text)
    assert "£123.45" in link_text, link_text
    verified = catalog.render("utter_verified", "en", None, {"name": "Alice"}).text
    assert verified in sent_to(topology, phone)

    # The hosted payment page (Stripe Checkout, faked), paid; Stripe's signed event to the webhook.
    link = re.search(rf"{re.escape(stripe.url)}/pay/(\S+)", link_text)
    assert link, link_text
    assert httpx.get(link.group(), timeout=30).status_code == 200
    body = event_body(stripe.complete_session(link.group(1)))
    webhook = httpx.post(
        f"{stack.gateway_url}/payments/stripe/webhook", content=body, timeout=30,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, STRIPE_WEBHOOK_SECRET)},
    )  # fmt: skip
    assert webhook.status_code == 200 and webhook.json()["received"] is True, webhook.text
    paid = {"paid_money": {"amount": "123.45", "currency": "GBP"}, "totals": []}
    receipt = catalog.render("utter_payment_receipt_settled", "en", None, paid).text.replace("\xa0", " ")
    wait_for(lambda: receipt in sent_to(topology, phone), lambda: f"the receipt by SMS: {sent_to(topology, phone)}")

    # The export back: the payment, by creditor and the creditor's own reference.
    exported = stack.manage("export-activity", "--since", since, "--out", "-")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    payments = [
        (r["creditor"], r["reference"], r["event"], r["amount"], r["currency"]) for r in rows if r["event"] == "payment"
    ]
    assert payments == [(CREDITOR, ours, "payment", "123.45", "GBP")], rows
    assert not [r for r in rows if r["reference"] == theirs and r["event"] == "payment"]

    # Rasa kept the conversation in its SQL tracker store on PostgreSQL.
    events = fetch(
        topology.rasa_database,
        "SELECT type_name, action_name FROM events WHERE sender_id = $1",
        conversation_of(stack, phone),
    )
    assert {"user", "bot", "action"} <= {e["type_name"] for e in events}
    assert "action_verify_identity" in {e["action_name"] for e in events}


def test_conversations_are_shared_out_over_both_rasa_instances(topology: Topology) -> None:
    """The gateway and the worker route each conversation to its instance (RASA_URLS, consistent
    hashing): new SMS conversations until each instance owns one, each answered by the instance
    that owns it (its access log), every one in the shared tracker store."""
    stack = topology.stack
    urls = {stack.rasa_url(name): name for name in stack.rasa_names}
    ring = HashRing(list(urls))
    served_before = {name: webhook_calls(stack, name) for name in stack.rasa_names}
    owned: dict[str, list[str]] = {url: [] for url in urls}
    while not all(owned.values()):
        assert sum(map(len, owned.values())) < 20, "the ring never put a conversation on one instance"
        number = new_number()
        send_first_contact(topology, number)
        conversation = conversation_of(stack, number)
        owned[ring.node_for(conversation)].append(conversation)
    for url, conversations in owned.items():
        wait_answered(stack, urls[url], served_before[urls[url]] + len(conversations))
    stored = fetch(
        topology.rasa_database, "SELECT DISTINCT sender_id FROM events WHERE sender_id = ANY($1)",
        [c for conversations in owned.values() for c in conversations],
    )  # fmt: skip
    assert len(stored) == sum(map(len, owned.values()))
