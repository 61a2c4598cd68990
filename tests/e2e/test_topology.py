"""docker-compose.yml's topology as processes (issue 16 point 5): the gateway, the inbox worker,
the action server and two Rasa instances (SQL tracker store on PostgreSQL, Redis lock store),
everything in the production profile with compose's settings pointed at this machine's PostgreSQL
and Redis, and no demo data. An agency's portfolio goes in through the admin API (the first admin
made with `manage create-staff`), a debtor in it is contacted, verifies and pays by SMS through
Twilio and Stripe (both faked on loopback, reached through their SDKs), and `manage
export-activity` gives the payment back by creditor and reference."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from app.manage import DEMO_ADMIN
from engine.conversations.sharding import HashRing
from locales import Catalog
from people.debtors.seed import DEMO
from tests.databases import fetch, fresh_postgres
from tests.fakes.stripe_server import FakeStripe, event_body, sign
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.stack import MODEL, RASA, REDIS, SMS_NUMBER, Stack
from tests.stack_env import twilio_env

pytestmark = pytest.mark.e2e
catalog = Catalog()

# compose's Redis dbs are 0 (queue), 1 (locks), 2 (rate limits); these are this module's own
# (tests/security 11-12, test_sharding 13, tests/inbox 15), flushed before and after.
QUEUE_DB, LOCK_DB, RATE_LIMIT_DB = 4, 5, 6
PUBLIC_BASE_URL = "https://assistant.example.org"  # what compose's .env sets; tests call loopback
STRIPE_WEBHOOK_SECRET = "whsec_topology_" + uuid.uuid4().hex
STAFF_PASSWORD = "a long enough password for the first admin"
CREDITOR = "Northwind Energy Ltd"


@dataclass
class Topology:
    stack: Stack
    twilio: FakeTwilio
    stripe: FakeStripe
    rasa_database: str


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    dbs = [redis.Redis.from_url(f"{REDIS}/{db}") for db in (QUEUE_DB, LOCK_DB, RATE_LIMIT_DB)]
    try:
        for db in dbs:
            db.flushdb()
    except redis.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (it runs on this machine and CI's)")
    # compose's postgres service holds the application's database and (rasa-db) Rasa's.
    database, rasa_database = (asyncio.run(fresh_postgres(name)) for name in ("topology_app", "topology_rasa"))
    with FakeTwilio() as twilio, FakeStripe() as stripe:
        stack = Stack(
            workdir=tmp_path_factory.mktemp("topology"),
            database_url=database,
            rasa_instances=2,
            tracker_store_url=rasa_database,
            lock_db=LOCK_DB,
            queue_db=QUEUE_DB,
            rate_limit_db=RATE_LIMIT_DB,
            demo_data=False,
            production_url=PUBLIC_BASE_URL,
            extra_env={
                **twilio_env(twilio),  # Telegram is not configured: production asks nothing of it
                "STRIPE_SECRET_KEY": "sk_test_topology",
                "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
                "STRIPE_API_BASE": stripe.url,  # stripe.api_base, the SDK's own seam
                "LOG_LEVEL_LIBRARIES": "INFO",  # Rasa's access log: which instance answered
                "INBOX_MAX_BACKOFF_SECONDS": "3",
            },
        )
        try:
            yield Topology(stack.up(), twilio, stripe, rasa_database)
        finally:
            stack.down()
            for db in dbs:
                db.flushdb()


NUMBERS = [f"+447700900{n:03d}" for n in range(1000)]  # UK drama numbers (people/debtors/fiction.py)


def new_number() -> str:
    """A number no conversation on this stack has used yet."""
    return NUMBERS.pop(uuid.uuid4().int % len(NUMBERS))


def sms(topology: Topology, sender: str, text: str) -> None:
    """An SMS from `sender` as Twilio delivers it: signed for the public URL, posted on loopback."""
    stack = topology.stack
    path = "/channels/twilio/sms"
    form = inbound_form(channel="sms", from_=sender, to=SMS_NUMBER, body=text)
    params, signature = signed(stack.public_url + path, form, topology.twilio.auth_token)
    response = httpx.post(stack.gateway_url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert response.status_code == 200, response.text


def sent_to(topology: Topology, number: str) -> list[str]:
    return [(m.body or "").replace("\xa0", " ") for m in list(topology.twilio.messages) if m.to == number]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def say(topology: Topology, sender: str, text: str, expected: Callable[[str], bool]) -> str:
    """Send an SMS; the first reply after it that is `expected` (replies arrive through the
    inbox worker, Rasa and Twilio's API)."""
    before = len(sent_to(topology, sender))
    sms(topology, sender, text)
    replies = wait_for(
        lambda: [r for r in sent_to(topology, sender)[before:] if expected(r)],
        f"a reply to {text!r}: {sent_to(topology, sender)[before:]}",
    )
    return str(replies[0])


def send_first_contact(topology: Topology, phone: str) -> None:
    """First contact with an imported debtor. For now the debtor writes first, by SMS; point 4's
    outreach (its run sending the first message with the web chat link) takes this place when it
    lands, and the debtor then answers the link. Returns once the assistant has answered: the AI
    disclosure, then Rasa's reply."""
    disclosure = catalog.text("utter_ai_disclosure", "en")
    sms(topology, phone, "Hello, I got a letter from you")
    wait_for(lambda: sent_to(topology, phone)[1:] and sent_to(topology, phone)[0] == disclosure, "the first answer")


def first_admin(stack: Stack) -> dict[str, str]:
    """`manage create-staff --role admin` (nothing is seeded in production), logged in: the headers
    of its console API calls. The session cookie is Secure (https PUBLIC_BASE_URL): it goes back
    by hand, as a TLS-terminating proxy in front of the gateway would pass it on."""
    username = f"admin-{uuid.uuid4().hex[:8]}@agency.example.org"
    done = stack.manage(
        "create-staff", "--username", username, "--display-name", "First Admin", "--role", "admin",
        env={"STAFF_PASSWORD": STAFF_PASSWORD},
    )  # fmt: skip
    assert "(admin) created" in done.stdout, done.stdout
    login = httpx.post(
        f"{stack.gateway_url}/agent/api/login", json={"username": username, "password": STAFF_PASSWORD}, timeout=30
    )
    assert login.status_code == 200 and "secure" in login.headers["set-cookie"].lower(), login.headers
    return {"Cookie": f"da_staff={login.cookies['da_staff']}", "X-CSRF-Token": login.json()["csrf_token"]}


def portfolio(*debts: tuple[str, str, str, str, str, str]) -> bytes:
    """The agency's CSV: per debt its reference, the person's name, birth date and phone (as the
    agency writes it), and the principal and fees, GBP."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["creditor", "reference", "first_name", "last_name", "date_of_birth", "country", "language",
                     "phone", "email", "principal", "fees", "currency", "due_date", "sms_consent"])  # fmt: skip
    for reference, name, born, phone, principal, fees in debts:
        first, last = name.split()
        writer.writerow([CREDITOR, reference, first, last, born, "GB", "en", phone, f"{first.lower()}@example.org",
                         principal, fees, "GBP", "2026-08-31", "yes"])  # fmt: skip
    return out.getvalue().encode("utf-8")


def conversation_of(stack: Stack, phone: str) -> str:
    [row] = fetch(stack.database_url, "SELECT id FROM conversations WHERE channel = 'sms' AND external_id = $1", phone)
    return str(row["id"])


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
    asked = say(topology, phone, "I want to pay my debt", lambda text: "reference" in text.lower())
    assert asked.startswith(catalog.text("utter_ask_reference", "en")), asked
    # Her case reference (the letter's; the first-contact link will fill it in), then her birth date.
    dob = say(topology, phone, alice["reference"], lambda text: "date of birth" in text.lower())
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
    wait_for(lambda: receipt in sent_to(topology, phone), f"the receipt by SMS: {sent_to(topology, phone)}")

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
        name, calls = urls[url], served_before[urls[url]] + len(conversations)
        answered = lambda name=name, calls=calls: webhook_calls(stack, name) >= calls  # noqa: E731
        wait_for(answered, f"{name} answering {calls} messages: {stack.tail(name)}")
    stored = fetch(
        topology.rasa_database, "SELECT DISTINCT sender_id FROM events WHERE sender_id = ANY($1)",
        [c for conversations in owned.values() for c in conversations],
    )  # fmt: skip
    assert len(stored) == sum(map(len, owned.values()))


def webhook_calls(stack: Stack, name: str) -> int:
    """Messages this Rasa instance answered: its access log's lines for the gateway's channel."""
    path = stack.workdir / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return len(re.findall(r"POST \S*/webhooks/gateway/webhook\S*\s+200\b", text))
