"""What happened after each assignment, derived from the data itself every time (never a stored
flag that could drift), and the conversion statistics per variant.

An outcome counts when its first occurrence at or after the assignment falls within the
experiment's `outcome_days`:
- replied: an inbound message in any conversation of the debtor (linked by `conversations.debtor_id`,
  by a verified channel identity, as the conversation a reminder or a first contact to the debtor
  was sent to, or as the web chat a first contact's link opened);
- verified: one of the debtor's conversations passed identity verification;
- paid: a ledger PAYMENT transaction with an entry for the debtor;
- plan_agreed: a payment plan was created for the debtor.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation, Direction, Message
from engine.experiments.models import Experiment, ExperimentAssignment
from engine.experiments.service import variants_of
from engine.experiments.stats import VariantStats, compare
from money.arrangements.models import PaymentPlan
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from money.outreach.models import OutreachContact, OutreachToken
from money.reminders.models import Reminder
from people.consent.models import ChannelIdentity

A = ExperimentAssignment
Link = Select[Any]  # (assignment id, conversation id, assigned at)


class Metric(StrEnum):
    REPLIED = "replied"
    VERIFIED = "verified"
    PAID = "paid"
    PLAN_AGREED = "plan_agreed"


@dataclass(frozen=True)
class Results:
    assigned: int
    window_open: int  # assignments whose outcome window has not ended yet (may still convert)
    metrics: dict[Metric, list[VariantStats]]


def _debtor_conversations(experiment_id: int) -> list[Link]:
    """(assignment id, conversation id, assigned at) for each debtor's conversations, by either link."""
    columns = (A.id.label("assignment_id"), Conversation.id.label("conversation_id"), A.assigned_at)
    direct = (
        select(*columns)
        .join(Conversation, Conversation.debtor_id == A.debtor_id)
        .where(A.experiment_id == experiment_id)
    )
    linked = (
        select(*columns)
        .join(ChannelIdentity, ChannelIdentity.debtor_id == A.debtor_id)
        .join(
            Conversation,
            and_(Conversation.channel == ChannelIdentity.channel, Conversation.external_id == ChannelIdentity.address),
        )
        .where(A.experiment_id == experiment_id)
    )
    return [direct, linked]


def _reminded_conversations(experiment_id: int) -> Link:
    """Conversations a reminder to the debtor was sent to: an answer there is a reply even before
    (or without) verification, when nothing else links the address to the debtor yet."""
    return (
        select(A.id.label("assignment_id"), Reminder.conversation_id.label("conversation_id"), A.assigned_at)
        .join(Reminder, Reminder.debtor_id == A.debtor_id)
        .where(A.experiment_id == experiment_id, Reminder.conversation_id.is_not(None))
    )


def _first_contact_conversations(experiment_id: int) -> list[Link]:
    """Conversations a first contact (money/outreach) went out in, and the web chats its one-time
    links opened: an answer there is a reply, as for reminders."""
    sent = (
        select(A.id.label("assignment_id"), OutreachContact.conversation_id.label("conversation_id"), A.assigned_at)
        .join(OutreachContact, OutreachContact.debtor_id == A.debtor_id)
        .where(A.experiment_id == experiment_id, OutreachContact.conversation_id.is_not(None))
    )
    opened = (
        select(A.id.label("assignment_id"), Conversation.id.label("conversation_id"), A.assigned_at)
        .join(OutreachToken, OutreachToken.debtor_id == A.debtor_id)
        .join(
            Conversation,
            and_(Conversation.channel == "webchat", Conversation.external_id == OutreachToken.conversation_key),
        )
        .where(A.experiment_id == experiment_id)
    )
    return [sent, opened]


def _queries(metric: Metric, experiment_id: int) -> list[Select[tuple[int, datetime]]]:
    """Per assignment, the first time the outcome happened at or after the assignment."""
    if metric in (Metric.REPLIED, Metric.VERIFIED):
        queries = []
        links = _debtor_conversations(experiment_id)
        if metric is Metric.REPLIED:
            links.append(_reminded_conversations(experiment_id))
            links.extend(_first_contact_conversations(experiment_id))
        for pairs in links:
            sub = pairs.subquery()
            assignment_id, conversation_id, assigned_at = sub.c.assignment_id, sub.c.conversation_id, sub.c.assigned_at
            if metric is Metric.REPLIED:
                queries.append(
                    select(assignment_id, func.min(Message.created_at))
                    .join(Message, Message.conversation_id == conversation_id)
                    .where(Message.direction == Direction.INBOUND, Message.created_at >= assigned_at)
                    .group_by(assignment_id)
                )
            else:
                queries.append(
                    select(assignment_id, func.min(Conversation.verified_at))
                    .join(Conversation, Conversation.id == conversation_id)
                    .where(Conversation.verified_at >= assigned_at)
                    .group_by(assignment_id)
                )
        return queries
    if metric is Metric.PAID:
        return [
            select(A.id, func.min(LedgerTransaction.created_at))
            .join(LedgerEntry, LedgerEntry.debtor_id == A.debtor_id)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(
                A.experiment_id == experiment_id,
                LedgerTransaction.kind == TransactionKind.PAYMENT,
                LedgerTransaction.created_at >= A.assigned_at,
            )
            .group_by(A.id)
        ]
    return [
        select(A.id, func.min(PaymentPlan.created_at))
        .join(PaymentPlan, PaymentPlan.debtor_id == A.debtor_id)
        .where(A.experiment_id == experiment_id, PaymentPlan.created_at >= A.assigned_at)
        .group_by(A.id)
    ]


async def first_occurrences(*, session: AsyncSession, experiment_id: int, metric: Metric) -> dict[int, datetime]:
    """Assignment id -> when the outcome first happened after it (absent: not yet)."""
    first: dict[int, datetime] = {}
    for query in _queries(metric, experiment_id):
        for assignment_id, at in (await session.execute(query)).all():
            if at is not None and (assignment_id not in first or at < first[assignment_id]):
                first[assignment_id] = at
    return first


async def results(*, session: AsyncSession, experiment: Experiment, now: datetime | None = None) -> Results:
    now = now or utcnow()
    window = timedelta(days=experiment.outcome_days)
    rows = (await session.execute(select(A.id, A.variant, A.assigned_at).where(A.experiment_id == experiment.id))).all()
    assigned = Counter(variant for _, variant, _ in rows)
    keys = [v.key for v in variants_of(experiment)]
    metrics: dict[Metric, list[VariantStats]] = {}
    for metric in Metric:
        first = await first_occurrences(session=session, experiment_id=experiment.id, metric=metric)
        converted = Counter(
            variant
            for assignment_id, variant, at in rows
            if assignment_id in first and first[assignment_id] <= at + window
        )
        metrics[metric] = compare([(key, assigned[key], converted[key]) for key in keys])
    return Results(
        assigned=len(rows),
        window_open=sum(1 for _, _, at in rows if at + window > now),
        metrics=metrics,
    )
