"""docker-compose.yml's topology as processes, for tests/e2e/test_topology.py: the stack with
every option tests/stack.py has for it (production profile, PostgreSQL, Redis, two Rasa instances
on the SQL tracker store, no demo data), Twilio and Stripe faked on loopback, and how a debtor
and an admin reach it (SMS signed for the public URL, the console API behind TLS)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from locales import Catalog
from tests.databases import fetch, fresh_postgres
from tests.fakes.stripe_server import FakeStripe
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.stack import MODEL, RASA, REDIS, SMS_NUMBER, Stack
from tests.stack_env import twilio_env

catalog = Catalog()

# compose's Redis dbs are 0 (queue), 1 (locks), 2 (rate limits); these are this stack's own
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


def wait_for(check: Callable[[], Any], what: Callable[[], str], timeout: float = 90) -> Any:
    """`check()`'s first truthy result; else fail naming `what()` as it is by then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what()}")


def say(topology: Topology, sender: str, text: str, expected: Callable[[str], bool]) -> str:
    """Send an SMS; the first reply after it that is `expected` (replies arrive through the
    inbox worker, Rasa and Twilio's API)."""
    before = len(sent_to(topology, sender))
    sms(topology, sender, text)
    replies = wait_for(
        lambda: [r for r in sent_to(topology, sender)[before:] if expected(r)],
        lambda: f"a reply to {text!r}: {sent_to(topology, sender)[before:]}",
    )
    return str(replies[0])


def send_first_contact(topology: Topology, phone: str) -> None:
    """First contact with an imported debtor. For now the debtor writes first, by SMS; point 4's
    outreach (its run sending the first message with the web chat link) takes this place when it
    lands, and the debtor then answers the link. Returns once the assistant has answered: the AI
    disclosure, then Rasa's reply."""
    disclosure, before = catalog.text("utter_ai_disclosure", "en"), len(sent_to(topology, phone))
    sms(topology, phone, "Hello, I got a letter from you")
    answer = lambda: sent_to(topology, phone)[before:]  # noqa: E731
    wait_for(lambda: disclosure in answer()[:-1], lambda: f"the disclosure, then Rasa's reply: {answer()}")


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


def webhook_calls(stack: Stack, name: str) -> int:
    """Messages this Rasa instance answered: its access log's lines for the gateway's channel."""
    path = stack.workdir / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return len(re.findall(r"POST \S*/webhooks/gateway/webhook\S*\s+200\b", text))


def wait_answered(stack: Stack, name: str, calls: int) -> None:
    wait_for(lambda: webhook_calls(stack, name) >= calls, lambda: f"{name} answering {calls}: {stack.tail(name)}")
