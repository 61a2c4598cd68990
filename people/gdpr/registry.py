"""Where personal data about a debtor lives, and what erasure does to each table.

Every table that can hold data about a debtor is listed here with how its rows are found (a
column holding a debtor, conversation, debt, payment, plan or ledger-transaction id, or a channel
address) and what erasure does: KEEP (with the legal reason), REDACT (named columns replaced) or
DELETE. tests/gdpr/test_registry.py checks this list against `Base.metadata`: a new table with a
debtor or conversation reference cannot be forgotten by the export or the erasure.

What is kept after erasure and why (bookkeeping law, see config/privacy.yml per locale): the
debts and their components (the claim), ledger transactions and entries, payments (amounts,
currencies, dates, provider references: needed to reconcile with the payment provider and to
answer refunds and chargebacks), installment plans and promises (the agreements behind the
bookings), collection holds, hardship options and dispute outcomes (they change how collection
may proceed, and a dispute is a legal claim: Art. 17(3)(b),(e) GDPR). None of these keeps a
name, date of birth, contact address or anything the person wrote.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

ERASED_TEXT = "[erased]"
ERASED_NAME = "erased"


class Kind(StrEnum):
    DEBTOR = "debtor"
    CONVERSATION = "conversation"
    DEBT = "debt"
    PAYMENT = "payment"
    PLAN = "plan"
    TRANSACTION = "transaction"
    ADDRESS = "address"  # (channel, address) pairs: the debtor's phone numbers and chat ids


class Action(StrEnum):
    KEEP = "keep"
    REDACT = "redact"
    DELETE = "delete"


@dataclass(frozen=True)
class Prefixed:
    """A unique placeholder built from the row's id (for unique columns): prefix || id."""

    prefix: str


@dataclass(frozen=True)
class PerRow:
    """A replacement computed in Python from the old value (JSON clean-up, random values)."""

    fn: Callable[[Any], Any]


# A constant (str, date or None: set in SQL), a Prefixed placeholder or a PerRow function.
Replacement = str | date | None | Prefixed | PerRow


@dataclass(frozen=True)
class Link:
    columns: tuple[str, ...]  # one id column, or ("channel", "address") for Kind.ADDRESS
    kind: Kind


@dataclass(frozen=True)
class Entry:
    table: str
    links: tuple[Link, ...]
    action: Action
    why: str
    redact: Mapping[str, Replacement] = field(default_factory=dict)


def _by(kind: Kind, *columns: str) -> Link:
    return Link(columns, kind)


def _random_reference(_old: object) -> str:
    # Unguessable and outside the reference format (two letters, six digits): nobody can verify as it.
    return "ERASED-" + secrets.token_hex(12)


HANDOFF_REASON_KEYS = ("reason", "at", "by")


def _handoff_reasons(reasons: object) -> list[dict[str, Any]]:
    """Keep why and when a case was queued; drop any details (cues, texts) attached to it."""
    if not isinstance(reasons, list):
        return []
    return [{k: r[k] for k in HANDOFF_REASON_KEYS if k in r} for r in reasons if isinstance(r, dict)]


# NOT NULL column: a date of birth nobody real has; with the random reference, no one verifies as it.
DOB_SENTINEL = date(1900, 1, 1)

REGISTRY: tuple[Entry, ...] = (
    # --- the person ---------------------------------------------------------------------------
    Entry(
        "debtors",
        (_by(Kind.DEBTOR, "id"),),
        Action.REDACT,
        "the row is what kept bookings point at; identity and contact details go",
        {
            "name": ERASED_NAME,
            "date_of_birth": DOB_SENTINEL,
            "phone": None,
            "email": None,
            "reference": PerRow(_random_reference),
            "reference_key": None,  # a typed reference finds nobody
        },
    ),
    Entry(
        "channel_identities",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.ADDRESS, "channel", "address")),
        Action.DELETE,
        "links a phone or chat to the person: nothing to keep",
    ),
    Entry(
        "consents",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.ADDRESS, "channel", "address")),
        Action.DELETE,
        "opted-out addresses live on as keyed hashes in consent_suppressions (people/gdpr/suppression.py)",
    ),
    Entry(
        "debtor_segments",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.DELETE,
        "a tone preference for future contact: no purpose once erased",
    ),
    Entry(
        "verification_attempts",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.CONVERSATION, "conversation_id")),
        Action.REDACT,
        "security record (time, outcome) kept; the reference typed goes",
        {"claimed_reference": None},
    ),
    # --- conversations --------------------------------------------------------------------------
    Entry(
        "conversations",
        (_by(Kind.CONVERSATION, "id"),),
        Action.REDACT,
        "counts for statistics stay; the channel address (phone, chat, browser session) goes",
        {"external_id": Prefixed("erased:"), "offered_options": None},
    ),
    Entry(
        "messages",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.REDACT,
        "direction, time, language and intent stay for statistics; the text and signals go",
        {"text": ERASED_TEXT, "signals": None, "distress_score": None, "provider_message_id": None},
    ),
    Entry(
        "inbound_events",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.REDACT,
        "the provider's copy of each message: text and sender go",
        {"text": ERASED_TEXT, "sender": ERASED_NAME, "provider_message_id": None, "last_error": None},
    ),
    Entry(
        "handoffs",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.REDACT,
        "queue history (reason, times, outcome) stays; details attached to reasons go",
        {"reasons": PerRow(_handoff_reasons)},
    ),
    Entry(
        "handoff_transitions",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.KEEP,
        "who moved the conversation when: staff accountability, no personal data of the debtor",
    ),
    Entry(
        "handoff_notes",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.REDACT,
        "staff notes about the person",
        {"text": ERASED_TEXT},
    ),
    Entry(
        "callback_requests",
        (_by(Kind.CONVERSATION, "conversation_id"),),
        Action.REDACT,
        "phone number and what the person wrote go",
        {"phone": None, "details": ERASED_TEXT},
    ),
    # --- cases ---------------------------------------------------------------------------------
    Entry(
        "disputes",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.CONVERSATION, "conversation_id")),
        Action.REDACT,
        "a legal claim: reason, status and dates stay (Art. 17(3)(e)); the person's words and notes go",
        {"details": ERASED_TEXT, "resolution_note": ERASED_TEXT},
    ),
    Entry(
        "hardship_cases",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.CONVERSATION, "conversation_id")),
        Action.KEEP,
        "the option chosen (pause, breathing space) governs collection; no free text",
    ),
    Entry(
        "collection_holds",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.KEEP,
        "statutory and dispute holds must keep stopping collection",
    ),
    # --- money ---------------------------------------------------------------------------------
    Entry(
        "debts",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.REDACT,
        "the claim behind the bookings (bookkeeping law); its typed-reference key goes: nobody verifies by it",
        {"reference_key": None},
    ),
    Entry("debt_components", (_by(Kind.DEBT, "debt_id"),), Action.KEEP, "itemised claim (bookkeeping law)"),
    Entry(
        "payments",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.REDACT,
        "amounts, dates and provider references are accounting records; the checkout link goes",
        {"checkout_url": None},
    ),
    Entry("processed_events", (_by(Kind.PAYMENT, "payment_id"),), Action.KEEP, "provider event ids (reconciliation)"),
    Entry("ledger_transactions", (_by(Kind.TRANSACTION, "id"),), Action.KEEP, "bookkeeping law"),
    Entry("ledger_entries", (_by(Kind.TRANSACTION, "transaction_id"),), Action.KEEP, "bookkeeping law"),
    Entry("payment_plans", (_by(Kind.DEBTOR, "debtor_id"),), Action.KEEP, "the agreement behind bookings and charges"),
    Entry("plan_installments", (_by(Kind.PLAN, "plan_id"),), Action.KEEP, "the agreed schedule (bookkeeping law)"),
    Entry("payment_promises", (_by(Kind.DEBTOR, "debtor_id"),), Action.KEEP, "amount and date promised; no free text"),
    # --- contact and experiments (tables of issue 6) --------------------------------------------
    Entry(
        "reminders",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.CONVERSATION, "conversation_id"), _by(Kind.DEBT, "debt_id")),
        Action.REDACT,
        "what was sent when (frequency caps, statistics) stays; provider error texts may name the number",
        {"detail": None},
    ),
    Entry(
        "outreach_cases",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.DEBT, "debt_id")),
        Action.REDACT,
        "first-contact steps and funnel times stay (statistics); the case ends, so nobody calls or writes again",
        {"stopped_reason": "erased"},
    ),
    Entry(
        "outreach_contacts",
        (_by(Kind.DEBTOR, "debtor_id"), _by(Kind.CONVERSATION, "conversation_id")),
        Action.REDACT,
        "what was sent when (the shared frequency cap, statistics) stays; provider error texts may name the number",
        {"detail": None},
    ),
    Entry(
        "outreach_tokens",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.DELETE,
        "one-time chat links: a link must not open a chat for an erased person",
    ),
    Entry(
        "experiment_assignments",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.KEEP,
        "variant only: removing it would bias running experiments",
    ),
    # --- this feature ----------------------------------------------------------------------------
    Entry(
        "erasure_requests",
        (_by(Kind.DEBTOR, "debtor_id"),),
        Action.KEEP,
        "proof that the request was handled (Art. 5(2) accountability); the reference only as a keyed hash",
    ),
)

# Tables that point at debtor-related tables but hold nothing about the debtor.
UNRELATED: Mapping[str, str] = {}


def by_table() -> dict[str, Entry]:
    return {entry.table: entry for entry in REGISTRY}
