"""Hand-built history for the dashboard tests (March 2021, far from anything else in the test DB).

Debtors (from the demo seed): Anna (sv) is in variant "neutral", Jonas (de) in "loss_aversion" of
a running experiment; Emily (en) and Lucas (pt-BR) are not assigned. All times are UTC.

c1 webchat en Emily: inbound 03-01 10:00 and 03-02 09:00; case request_human 03-02 09:05;
   attempts 03-01 failed + succeeded; promise p1 made 03-01, kept (judged 03-05);
   plan5 03-05 active but with a missed installment (not kept)
c2 sms sv Anna: inbound 03-01 23:30 (03-02 in Stockholm); attempt 03-01 succeeded; payment
   SEK 1890.00 received 03-02 08:00, SEK 100.00 refunded 03-03; plan1 03-02 active (kept);
   plan4 03-04 cancelled; promise p2 made 02-20, broken (judged 03-06)
c3 whatsapp de Jonas: inbound 03-03 12:00; cases hardship 12:01 and vulnerability 13:00;
   payment EUR 349.90 received 03-03 12:30; plan2 03-03 at risk; promise p3 made 03-03 (pending)
c4 webchat, no locale, no debtor: inbound 03-02 10:00; case fallback 03-05 (no inbound that day)
c5 telegram pt-BR Lucas: inbound 02-28 23:59:59 only (outside); opted out 03-04
plan3 Emily without a conversation, 03-04, completed (kept)
consents: c2's number opted back in 03-04 (not counted); an unknown WhatsApp number opted out 03-06
outside the range: inbound 03-08 00:00:00 on c1 (the first instant after 03-07)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations.models import Conversation, Direction, Message
from engine.experiments.models import Experiment, ExperimentAssignment
from engine.experiments.models import Status as ExperimentStatus
from handoff.models import PRIORITY, Handoff, Reason
from money.arrangements.models import (
    Frequency,
    Installment,
    InstallmentStatus,
    PaymentPlan,
    PaymentPromise,
    PlanStatus,
    PromiseStatus,
)
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from payments.models import Payment, PaymentStatus
from people.consent.models import Consent
from people.debtors.models import Debtor
from people.identity.models import VerificationAttempt


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2021, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class World:
    debtors: dict[str, int]
    conversations: dict[str, str]
    experiment_id: int


async def debtor_ids(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Debtor.reference, Debtor.id))
    by_reference = dict(rows.tuples().all())
    return {
        "anna": by_reference["SE-100234"],
        "jonas": by_reference["DE-200871"],
        "emily": by_reference["UK-300552"],
        "lucas": by_reference["BR-400918"],
    }


async def conversation(
    session: AsyncSession, channel: str, external_id: str, locale: str | None, debtor_id: int | None
) -> Conversation:
    found = Conversation(
        channel=channel, external_id=external_id, locale=locale, debtor_id=debtor_id, created_at=at(2, 1)
    )
    session.add(found)
    await session.flush()
    return found


def message(conversation: Conversation, when: datetime, direction: Direction = Direction.INBOUND) -> Message:
    return Message(
        conversation_id=conversation.id, direction=direction, channel=conversation.channel, text="hi", created_at=when
    )


def handoff(conversation: Conversation, reason: Reason, when: datetime) -> Handoff:
    return Handoff(conversation_id=conversation.id, reason=reason, priority=PRIORITY[reason], created_at=when)


async def money(
    session: AsyncSession, conversation: Conversation, debtor_id: int, currency: str, received: list[tuple]
) -> None:
    """A chat payment and its ledger cash movements: (kind, minor units, when)."""
    payment = Payment(
        debtor_id=debtor_id,
        conversation_id=conversation.id,
        provider="sandbox",
        currency=currency,
        amount_minor=received[0][1],
        debt_ids=[],
        status=PaymentStatus.SUCCEEDED,
        created_at=received[0][2],
        succeeded_at=received[0][2],
    )
    session.add(payment)
    await session.flush()
    for kind, amount, when in received:
        sign = -1 if kind is TransactionKind.REFUND else 1
        transaction = LedgerTransaction(
            kind=kind,
            idempotency_key=f"analytics-test:{payment.id}:{kind}:{amount}",
            currency=currency,
            payment_id=payment.id,
            created_at=when,
        )
        transaction.entries = [
            LedgerEntry(account="cash:sandbox", amount_minor=sign * amount, currency=currency, debtor_id=debtor_id),
            LedgerEntry(account="receivable", amount_minor=-sign * amount, currency=currency, debtor_id=debtor_id),
        ]
        session.add(transaction)


def plan(debtor_id: int, conversation: Conversation | None, status: PlanStatus, when: datetime) -> PaymentPlan:
    return PaymentPlan(
        debtor_id=debtor_id,
        conversation_id=conversation.id if conversation else None,
        currency="SEK",
        debt_ids=[],
        frequency=Frequency.MONTHLY,
        principal_minor=100_00,
        status=status,
        created_at=when,
    )


def promise(
    debtor_id: int, conversation: Conversation, status: PromiseStatus, made: datetime, judged: datetime | None
) -> PaymentPromise:
    return PaymentPromise(
        debtor_id=debtor_id,
        conversation_id=conversation.id,
        amount_minor=50_00,
        currency="SEK",
        due_date=date(2021, 3, 4),
        status=status,
        created_at=made,
        evaluated_at=judged,
    )


async def build(session: AsyncSession) -> World:
    d = await debtor_ids(session)
    experiment = Experiment(
        name="First reminder framing",
        message_key="utter_reminder_due_soon",
        status=ExperimentStatus.RUNNING,
        variants=[
            {"key": "neutral", "text_key": "utter_reminder_due_soon", "share": 50},
            {"key": "loss_aversion", "text_key": "utter_reminder_due_soon_loss_aversion", "share": 50},
        ],
        created_at=at(1, 20),
        started_at=at(2, 1),
    )
    session.add(experiment)
    await session.flush()
    session.add_all(
        [
            ExperimentAssignment(experiment_id=experiment.id, debtor_id=d["anna"], variant="neutral"),
            ExperimentAssignment(experiment_id=experiment.id, debtor_id=d["jonas"], variant="loss_aversion"),
        ]
    )
    c1 = await conversation(session, "webchat", "analytics-c1", "en", d["emily"])
    c2 = await conversation(session, "sms", "+46709990001", "sv", d["anna"])
    c3 = await conversation(session, "whatsapp", "+49151999002", "de", d["jonas"])
    c4 = await conversation(session, "webchat", "analytics-c4", None, None)
    c5 = await conversation(session, "telegram", "990005", "pt-BR", d["lucas"])
    session.add_all(
        [
            message(c1, at(3, 1, 10)),
            message(c1, at(3, 1, 10, 1), Direction.OUTBOUND),
            message(c1, at(3, 2, 9)),
            message(c1, at(3, 8)),  # first instant after the range
            message(c2, at(3, 1, 23, 30)),
            message(c3, at(3, 3, 12)),
            message(c4, at(3, 2, 10)),
            message(c4, at(3, 5, 10), Direction.OUTBOUND),
            message(c5, at(2, 28, 23, 59, 59)),
            message(c5, at(3, 3, 9), Direction.OUTBOUND),
            handoff(c1, Reason.REQUEST_HUMAN, at(3, 2, 9, 5)),
            handoff(c3, Reason.HARDSHIP, at(3, 3, 12, 1)),
            handoff(c3, Reason.VULNERABILITY, at(3, 3, 13)),
            handoff(c4, Reason.FALLBACK, at(3, 5, 11)),
            VerificationAttempt(conversation_id=c1.id, success=False, created_at=at(3, 1, 10, 2)),
            VerificationAttempt(conversation_id=c1.id, success=True, debtor_id=d["emily"], created_at=at(3, 1, 10, 3)),
            VerificationAttempt(conversation_id=c2.id, success=True, debtor_id=d["anna"], created_at=at(3, 1, 23, 31)),
            plan(d["anna"], c2, PlanStatus.ACTIVE, at(3, 2, 8, 30)),
            plan(d["jonas"], c3, PlanStatus.AT_RISK, at(3, 3, 12, 40)),
            plan(d["emily"], None, PlanStatus.COMPLETED, at(3, 4, 9)),
            plan(d["anna"], c2, PlanStatus.CANCELLED, at(3, 4, 10)),
            promise(d["emily"], c1, PromiseStatus.KEPT, at(3, 1, 10, 5), at(3, 5, 1)),
            promise(d["anna"], c2, PromiseStatus.BROKEN, at(2, 20), at(3, 6, 1)),
            promise(d["jonas"], c3, PromiseStatus.PENDING, at(3, 3, 12, 45), None),
            Consent(channel="telegram", address="990005", opted_out=True, source="keyword:STOP", changed_at=at(3, 4)),
            Consent(
                channel="sms", address="+46709990001", opted_out=False, source="keyword:START", changed_at=at(3, 4)
            ),
            Consent(
                channel="whatsapp", address="+1555000999", opted_out=True, source="intent:opt_out", changed_at=at(3, 6)
            ),
        ]
    )
    missed = plan(d["emily"], c1, PlanStatus.ACTIVE, at(3, 5, 2))
    missed.installments = [
        Installment(
            seq=1,
            due_date=date(2021, 3, 5),
            amount_minor=100_00,
            principal_minor=100_00,
            status=InstallmentStatus.MISSED,
        )
    ]
    session.add(missed)
    await money(
        session,
        c2,
        d["anna"],
        "SEK",
        [(TransactionKind.PAYMENT, 1890_00, at(3, 2, 8)), (TransactionKind.REFUND, 100_00, at(3, 3))],
    )
    await money(session, c3, d["jonas"], "EUR", [(TransactionKind.PAYMENT, 349_90, at(3, 3, 12, 30))])
    await session.commit()
    return World(
        debtors=d,
        conversations={"c1": c1.id, "c2": c2.id, "c3": c3.id, "c4": c4.id, "c5": c5.id},
        experiment_id=experiment.id,
    )
