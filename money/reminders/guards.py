"""May this reminder go out, and where to? The checks the sender runs inside its claim transaction.

Every "no" is a reason code stored on the reminder (never a silent drop):
  expired, gone, paid, closed, in_plan, date_changed, plan_closed, resolved,
  hold:<dispute|hardship|breathing_space>, no_address, channel_unavailable, opted_out;
`cap_free_at` is the one frequency cap of every proactive message: reminders and first contact
(money/outreach) both count against it. The sender adds with_agent (a person is handling that
conversation), cap_reached, and for sends
that did not go through provider_error and interrupted.

Contact hours (`contact_allowed`, `next_contact`) take the debtor: the windows, caps and public
holidays are those of the debtor's jurisdiction (country and region, people/jurisdiction), in the
debtor's own time zone — never of the language they write in. Anything that contacts a debtor
unprompted (reminders, first contact) asks these.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from money.arrangements.evaluation import OPEN_PLAN
from money.arrangements.models import Installment, InstallmentStatus, PaymentPlan, PaymentPromise, PromiseStatus
from money.holds import service as holds_service
from money.ledger import service as ledger_service
from money.outreach.models import ContactStatus, OutreachContact
from money.reminders.config import Cap, ContactPolicy, ReminderConfig, load
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.consent import service as consent_service
from people.consent.models import ChannelIdentity, Consent
from people.debtors.models import Debt, Debtor, DebtStatus
from people.jurisdiction import service as jurisdiction

# Channels that can reach a person unprompted (web chat only answers an open page).
PROACTIVE = ("sms", "whatsapp", "telegram")
PHONE_CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True)
class Route:
    channel: str
    address: str


def contact_policy(*, debtor: Debtor, config: ReminderConfig | None = None) -> ContactPolicy:
    """The debtor's contact windows, caps and public holidays (their jurisdiction's)."""
    return (config or load()).policy_of(debtor)


def contact_allowed(*, debtor: Debtor, when: datetime, config: ReminderConfig | None = None) -> bool:
    """May this debtor be contacted at `when` (their local time, their holidays)?"""
    return contact_policy(debtor=debtor, config=config).allowed(when, jurisdiction.timezone_of(debtor))


def next_contact(*, debtor: Debtor, when: datetime, config: ReminderConfig | None = None) -> datetime | None:
    """`when` if the debtor may be contacted then, else the next allowed moment (UTC); None if
    there is none within a month (a configuration with no contact days)."""
    return contact_policy(debtor=debtor, config=config).next_allowed(when, jurisdiction.timezone_of(debtor))


async def subject_debts(*, session: AsyncSession, reminder: Reminder) -> tuple[list[int], str | None]:
    """The debts the reminder is about, or why it no longer has a point."""
    if reminder.kind is ReminderKind.DUE_SOON:
        debt = await session.get(Debt, reminder.subject_id)
        if debt is None:
            return [], "gone"
        if debt.status is DebtStatus.DISPUTED:
            return [], "hold:dispute"
        if debt.status is not DebtStatus.OPEN:
            return [], "paid" if debt.status is DebtStatus.PAID else "closed"
        if debt.due_date != reminder.due_date:
            return [], "date_changed"  # the new date gets its own reminder
        in_plan = await session.scalars(
            select(PaymentPlan.debt_ids).where(
                PaymentPlan.debtor_id == reminder.debtor_id, PaymentPlan.status.in_(OPEN_PLAN)
            )
        )
        if any(debt.id in (ids or []) for ids in in_plan.all()):
            return [], "in_plan"
        return [debt.id], None
    if reminder.kind is ReminderKind.INSTALLMENT_DUE:
        installment = await session.get(Installment, reminder.subject_id)
        if installment is None:
            return [], "gone"
        if installment.status is InstallmentStatus.PAID:
            return [], "paid"
        plan = await session.get(PaymentPlan, installment.plan_id)
        if plan is None or plan.status not in OPEN_PLAN:
            return [], "plan_closed"
        if installment.status is not InstallmentStatus.PENDING or installment.due_date != reminder.due_date:
            return [], "expired"
        return list(plan.debt_ids or []), None
    promise = await session.get(PaymentPromise, reminder.subject_id)
    if promise is None:
        return [], "gone"
    wanted = PromiseStatus.PENDING if reminder.kind is ReminderKind.PROMISE_DUE else PromiseStatus.BROKEN
    if promise.status is not wanted:
        return [], "paid" if promise.status is PromiseStatus.KEPT else "resolved"
    # A promise covers what is owed in its currency (see arrangements.service.basis).
    debts = await session.scalars(
        select(Debt.id).where(
            Debt.debtor_id == reminder.debtor_id,
            Debt.currency == promise.currency,
            Debt.status.in_((DebtStatus.OPEN, DebtStatus.DISPUTED)),
        )
    )
    return list(debts.all()), None


async def money_reason(*, session: AsyncSession, reminder: Reminder, debt_ids: list[int], now: datetime) -> str | None:
    """Nothing owed any more, or collection on one of the debts is paused (dispute, hardship,
    breathing space): never remind about it."""
    holds = await holds_service.active(session=session, debtor_id=reminder.debtor_id, now=now)
    for hold in holds:
        if hold.debt_id is None or hold.debt_id in debt_ids:
            return f"hold:{hold.reason.value}"
    disputed = await session.scalar(
        select(Debt.id).where(Debt.id.in_(debt_ids or [-1]), Debt.status == DebtStatus.DISPUTED).limit(1)
    )
    if disputed is not None:
        return "hold:dispute"
    owed = await ledger_service.receivables(session=session, debt_ids=debt_ids)
    if sum(amount for amount in owed.values()) <= 0:
        return "paid"
    return None


async def _address(session: AsyncSession, debtor: Debtor, channel: str) -> str | None:
    """A proven address first (linked after verification, most recent), then the phone number
    the creditor gave us."""
    linked_channels = PHONE_CHANNELS if channel in PHONE_CHANNELS else (channel,)
    linked = await session.scalar(
        select(ChannelIdentity.address)
        .where(ChannelIdentity.debtor_id == debtor.id, ChannelIdentity.channel.in_(linked_channels))
        .order_by((ChannelIdentity.channel == channel).desc(), ChannelIdentity.linked_at.desc())
        .limit(1)
    )
    if linked:
        return str(linked)
    if channel in PHONE_CHANNELS and debtor.phone:
        return "".join(debtor.phone.split())
    return None


async def _opted_out(session: AsyncSession, debtor_id: int, channel: str, address: str) -> bool:
    """Opted out at this address, or on this channel from any address known to be theirs."""
    if await consent_service.opted_out(session=session, channel=channel, address=address):
        return True
    found = await session.scalar(
        select(Consent.id)
        .where(Consent.debtor_id == debtor_id, Consent.channel == channel, Consent.opted_out.is_(True))
        .limit(1)
    )
    return found is not None


async def reach(*, session: AsyncSession, debtor: Debtor, channel: str) -> Route | str:
    """This one channel's address for the debtor, or why not ("no_address", "opted_out")."""
    address = await _address(session, debtor, channel)
    if address is None:
        return "no_address"
    if await _opted_out(session, debtor.id, channel, address):
        return "opted_out"
    return Route(channel=channel, address=address)


async def route(
    *, session: AsyncSession, debtor: Debtor, available: Collection[str], fallbacks: Collection[str]
) -> Route | str:
    """The preferred channel if it can reach the person, else a fallback (web chat cannot be
    reached unprompted; no known address). An opted-out channel is never swapped for another:
    the answer is then "opted_out". Returns a Route or a reason code."""
    order = [debtor.preferred_channel] if debtor.preferred_channel in PROACTIVE else []
    order += [c for c in fallbacks if c in PROACTIVE and c not in order]
    reasons: list[str] = []
    for channel in order:
        address = await _address(session, debtor, channel)
        if address is None:
            reasons.append("no_address")
            continue
        if await _opted_out(session, debtor.id, channel, address):
            return "opted_out"
        if channel not in available:
            reasons.append("channel_unavailable")
            continue
        return Route(channel=channel, address=address)
    return reasons[0] if reasons else "no_address"


# Every attempt counts towards the caps, failed ones too (a timed-out send may have been delivered).
COUNTED = (ReminderStatus.SENDING, ReminderStatus.SENT, ReminderStatus.FAILED)


async def cap_free_at(*, session: AsyncSession, debtor_id: int, caps: Sequence[Cap], now: datetime) -> datetime | None:
    """None if another proactive message (a reminder or a first contact) may go to this debtor
    now (on any channel), else when the tightest cap lets one through: each cap allows `max`
    attempts within a rolling window."""
    if not caps:
        return None
    longest = max(cap.window for cap in caps)
    reminders = select(Reminder.attempted_at).where(
        Reminder.debtor_id == debtor_id, Reminder.status.in_(COUNTED), Reminder.attempted_at > now - longest
    )
    first_contacts = select(OutreachContact.attempted_at).where(
        OutreachContact.debtor_id == debtor_id,
        OutreachContact.status != ContactStatus.LISTED,  # a person's call list entry sends nothing
        OutreachContact.attempted_at > now - longest,
    )
    attempts = sorted(
        [*(await session.scalars(reminders)).all(), *(await session.scalars(first_contacts)).all()],
        key=lambda at: at or now,
        reverse=True,
    )
    free_at: datetime | None = None
    for cap in caps:
        recent = [at for at in attempts if at is not None and at > now - cap.window]
        if len(recent) >= cap.max:
            until = recent[cap.max - 1] + cap.window  # when the oldest attempt that counts leaves the window
            free_at = until if free_at is None or until > free_at else free_at
    return free_at
