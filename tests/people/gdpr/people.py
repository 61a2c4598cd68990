"""A debtor with a row in every table that can hold data about a person, each carrying
recognisable personal data (unique per call), for the export and erasure tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation, Direction, Message
from engine.experiments.models import Experiment, ExperimentAssignment
from engine.inbox.models import InboundEvent, InboxStatus
from handoff.models import CallbackRequest, Handoff, Note, Reason, State, Status, Transition
from locales.tone.models import DebtorSegment
from money.arrangements.models import Frequency, Installment, PaymentPlan, PaymentPromise
from money.disputes.models import Dispute, DisputeReason, DisputeStatus
from money.hardship.models import HardshipCase, HardshipOption
from money.holds.models import CollectionHold, HoldReason
from money.ledger import service as ledger_service
from money.outreach.models import ContactStatus, OutreachCase, OutreachContact, OutreachToken
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from payments.models import Payment, PaymentStatus, ProcessedEvent
from people.consent.models import ChannelIdentity, Consent
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from people.identity.models import VerificationAttempt


@dataclass
class Person:
    debtor_id: int
    reference: str
    name: str
    date_of_birth: date
    phone: str
    email: str
    telegram: str
    webchat_session: str
    conversation_ids: list[str]
    payment_id: int
    # Free text written by the person or by staff about them: none may survive an erasure.
    texts: list[str] = field(default_factory=list)

    @property
    def pii(self) -> list[str]:
        return [
            self.name, self.reference, self.date_of_birth.isoformat(), self.phone, self.email, self.telegram,
            self.webchat_session, *self.texts,
        ]  # fmt: skip


def letters_only(text: str) -> str:
    """No digits: a random hex digest could hold another person's number and fail the export check."""
    return text.translate(str.maketrans("0123456789", "ghijklmnop"))


async def build(session: AsyncSession, *, locale: str = "en", dispute_open: bool = False) -> Person:
    tag = uuid.uuid4().hex[:8]
    digits = str(uuid.uuid4().int)[:6]
    now = utcnow()
    person = Person(
        debtor_id=0,
        reference=f"ZZ-{digits}",
        name=f"Testa Person{tag}",
        date_of_birth=date(1930 + int(digits[:2]) % 60, 1 + int(digits[2:4]) % 12, 1 + int(digits[4:]) % 28),
        phone=f"+4479{str(uuid.uuid4().int)[:8]}",
        email=f"testa.{tag}@example.org",
        telegram=f"77{digits}",
        webchat_session=f"web-{tag}",
        conversation_ids=[],
        payment_id=0,
    )
    say = {k: f"{k} {tag}: my neighbour Berit{tag} knows" for k in ("message", "note", "callback", "dispute", "inbox")}
    person.texts = [*say.values(), f"resolution {tag}", f"provider error {tag}"]

    debtor = Debtor(
        reference=person.reference,
        name=person.name,
        date_of_birth=person.date_of_birth,
        locale=locale,
        timezone="Europe/London",
        phone=person.phone,
        email=person.email,
    )
    debt = Debt(
        creditor="Test Water Ltd",
        reference=f"TW-{tag}",
        currency="GBP",
        due_date=date(2026, 11, 1),
        components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("100.00"), description=None)],
    )
    debtor.debts = [debt]
    session.add(debtor)
    await session.flush()
    person.debtor_id = debtor.id
    await ledger_service.open_debt(session=session, debt=debt, components=[("principal", Decimal("100.00"))])

    web = Conversation(channel="webchat", external_id=person.webchat_session, debtor_id=debtor.id, locale=locale)
    # Never verified in the chat itself: linked only because the number belongs to the debtor.
    sms = Conversation(channel="sms", external_id=person.phone, locale=locale)
    telegram = Conversation(channel="telegram", external_id=person.telegram, locale=locale)
    session.add_all([web, sms, telegram])
    await session.flush()
    person.conversation_ids = [web.id, sms.id, telegram.id]
    message = Message(
        conversation_id=web.id, direction=Direction.INBOUND, channel="webchat", text=say["message"],
        signals={"cues": ["illness"]}, distress_score=0.7,
    )  # fmt: skip
    session.add_all(
        [
            message,
            Message(conversation_id=sms.id, direction=Direction.INBOUND, channel="sms", text=f"sms {say['message']}"),
            Message(conversation_id=telegram.id, direction=Direction.OUTBOUND, channel="telegram", text=f"Hi {person.name}"),
            ChannelIdentity(channel="telegram", address=person.telegram, debtor_id=debtor.id),
            Consent(channel="sms", address=person.phone, opted_out=True, source="keyword:STOP"),
            Consent(channel="telegram", address=person.telegram, debtor_id=debtor.id, opted_out=False, source="keyword:START"),
            VerificationAttempt(conversation_id=web.id, claimed_reference=person.reference, debtor_id=debtor.id, success=True),
            InboundEvent(channel="sms", provider_message_id=f"SM{tag}", sender=person.phone, conversation_id=sms.id,
                         text=say["inbox"], status=InboxStatus.DONE),
        ]
    )  # fmt: skip
    payment = Payment(
        debtor_id=debtor.id, conversation_id=web.id, provider="sandbox", checkout_session_id=f"cs_{tag}",
        payment_intent_id=f"pi_{tag}", checkout_url=f"https://pay.example/{person.email}", currency="GBP",
        amount_minor=2500, debt_ids=[debt.id], status=PaymentStatus.SUCCEEDED, succeeded_at=now,
    )  # fmt: skip
    session.add(payment)
    await session.flush()
    person.payment_id = payment.id
    await ledger_service.record_payment(
        session=session, key=f"payment:{tag}", payment_id=payment.id, debtor_id=debtor.id, provider="sandbox",
        currency="GBP", amount_minor=2500, debts=[debt],
    )  # fmt: skip
    plan = PaymentPlan(
        debtor_id=debtor.id, conversation_id=web.id, currency="GBP", debt_ids=[debt.id],
        frequency=Frequency.MONTHLY, principal_minor=7500,
    )  # fmt: skip
    plan.installments = [
        Installment(seq=1, due_date=date(2026, 12, 1), amount_minor=7500, principal_minor=7500),
    ]
    handoff = Handoff(
        conversation_id=web.id, reason=Reason.HARDSHIP, priority=2, status=Status.RESOLVED, resolved_at=now,
        reasons=[{"reason": "hardship", "at": now.isoformat(), "by": "bot", "cue_text": say["message"]}],
    )  # fmt: skip
    experiment = Experiment(name=f"exp {tag}", message_key=f"utter_test_{tag}", variants=[])
    session.add_all([plan, handoff, experiment])
    await session.flush()
    status = DisputeStatus.OPEN if dispute_open else DisputeStatus.REJECTED
    session.add_all(
        [
            PaymentPromise(debtor_id=debtor.id, conversation_id=web.id, amount_minor=1000, currency="GBP",
                           due_date=date(2026, 12, 5)),
            Dispute(debtor_id=debtor.id, debt_id=debt.id, conversation_id=web.id, reason=DisputeReason.WRONG_AMOUNT,
                    details=say["dispute"], status=status, resolution_note=person.texts[-2]),
            HardshipCase(conversation_id=web.id, debtor_id=debtor.id, locale=locale, option=HardshipOption.PAUSE),
            CollectionHold(debtor_id=debtor.id, reason=HoldReason.HARDSHIP, ends_at=now + timedelta(days=30)),
            Transition(conversation_id=web.id, handoff_id=handoff.id, from_state=State.BOT, to_state=State.QUEUED,
                       actor="bot"),
            Note(conversation_id=web.id, text=say["note"]),
            CallbackRequest(conversation_id=sms.id, handoff_id=handoff.id, phone=person.phone, details=say["callback"]),
            Reminder(debtor_id=debtor.id, debt_id=debt.id, kind=ReminderKind.DUE_SOON, subject_id=debt.id,
                     due_date=date(2026, 11, 1), channel="sms", conversation_id=sms.id,
                     text_key="utter_reminder_due_soon", dedupe_key=f"due_soon:{tag}", status=ReminderStatus.FAILED,
                     detail=person.texts[-1], scheduled_for=now, expires_at=now + timedelta(days=1)),
            ExperimentAssignment(experiment_id=experiment.id, debtor_id=debtor.id, variant="neutral"),
            ProcessedEvent(event_id=f"evt_{tag}", type="checkout.session.completed", payment_id=payment.id),
            DebtorSegment(debtor_id=debtor.id, segment="vulnerable"),
            OutreachCase(debt_id=debt.id, debtor_id=debtor.id, country="GB", step=1, last_contacted_at=now,
                         last_channel="sms", last_step=0, contacted_at=now),
            OutreachContact(debtor_id=debtor.id, step=0, channel="sms", status=ContactStatus.FAILED,
                            conversation_id=sms.id, text_key="utter_outreach_first_contact", detail=person.texts[-1],
                            attempted_at=now),
            OutreachToken(digest=letters_only(uuid.uuid4().hex * 2), debtor_id=debtor.id, expires_at=now + timedelta(days=3)),
        ]
    )  # fmt: skip
    await session.flush()
    return person
