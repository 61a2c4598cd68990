"""What first contact each open debt calls for now: send, defer (with when) or skip (with why).

`decide` reads the facts (debt, case, arrangements, holds, conversations, consent, contact hours,
the shared cap) and changes nothing, so the same decisions serve the dry-run report
(`make outreach-plan`) and the sender, which decides again under the debtor's row lock.
Reason codes:
  send:  step:<n> (the cadence step), call_list
  defer: next_step (its day has not come), contact_hours, holiday, cap
  skip:  not_overdue, no_cadence, cadence_done, paid, dispute, hold, plan, promise, conversation,
         replied, verified, agreed, disputed (a started case's stop), opted_out, no_address,
         no_whatsapp_opt_in, sms_not_allowed, no_sms_consent
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations.models import Conversation
from money.arrangements.evaluation import OPEN_PLAN
from money.arrangements.models import PaymentPlan, PaymentPromise, PromiseStatus
from money.holds import service as holds_service
from money.holds.models import HoldReason
from money.ledger import service as ledger_service
from money.outreach.config import Cadence, OutreachConfig
from money.outreach.models import OutreachCase, OutreachToken
from money.reminders import guards
from money.reminders.config import ContactPolicy, ReminderConfig
from money.reminders.planner import zone
from people.consent import service as consent_service
from people.debtors.models import Debt, Debtor, DebtStatus

SEND, DEFER, SKIP = "send", "defer", "skip"
# A started case's stop, by what happened (the funnel's words).
STOPS = {"plan": "agreed", "promise": "agreed", "dispute": "disputed", "conversation": "replied"}


@dataclass(frozen=True)
class Decision:
    debt_id: int
    debtor_id: int
    reference: str
    action: str  # send | defer | skip
    channel: str | None
    at: datetime
    reason: str
    step: int | None = None  # the cadence step it is about
    address: str | None = None

    def report(self) -> dict[str, str | None]:
        return {
            "reference": self.reference,
            "action": self.action,
            "channel": self.channel,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }


def contact_policy(config: ReminderConfig, debtor: Debtor) -> ContactPolicy:
    """The reminders' contact hours, public holidays and caps for this debtor: those of their
    jurisdiction (country and region, people/jurisdiction), never of their language."""
    return guards.contact_policy(debtor=debtor, config=config)


@dataclass
class Facts:
    """What one debtor's decisions depend on, gathered once for all their debts."""

    owed: dict[int, int]
    planned: set[int]
    promised: bool
    held: dict[int | None, str]  # debt id (None: all) -> hold reason
    replied_at: datetime | None  # the latest inbound on a conversation that is theirs
    verified_at: datetime | None


async def facts(*, session: AsyncSession, debtor: Debtor, debts: list[Debt], now: datetime) -> Facts:
    ids = [debt.id for debt in debts]
    owed: dict[int, int] = defaultdict(int)
    for (debt_id, _), amount in (await ledger_service.receivables(session=session, debt_ids=ids)).items():
        owed[debt_id] += amount
    plans = await session.scalars(
        select(PaymentPlan.debt_ids).where(PaymentPlan.debtor_id == debtor.id, PaymentPlan.status.in_(OPEN_PLAN))
    )
    promise = await session.scalar(
        select(PaymentPromise.id)
        .where(PaymentPromise.debtor_id == debtor.id, PaymentPromise.status == PromiseStatus.PENDING)
        .limit(1)
    )
    held = {
        hold.debt_id: hold.reason.value
        for hold in await holds_service.active(session=session, debtor_id=debtor.id, now=now)
    }
    phone = "".join((debtor.phone or "").split())
    opened = select(OutreachToken.conversation_key).where(
        OutreachToken.debtor_id == debtor.id, OutreachToken.conversation_key.is_not(None)
    )
    theirs = or_(
        Conversation.debtor_id == debtor.id,
        Conversation.external_id.in_([phone] if phone else []),
        Conversation.external_id.in_(opened),
    )
    rows = (
        await session.execute(
            select(Conversation.last_inbound_at, Conversation.verified_at, Conversation.debtor_id).where(theirs)
        )
    ).all()
    inbound = [at for at, _, _ in rows if at is not None]
    verified = [at for _, at, linked in rows if at is not None and linked == debtor.id]
    return Facts(
        owed=dict(owed),
        planned={debt_id for ids_ in plans.all() for debt_id in ids_ or []},
        promised=promise is not None,
        held=held,
        replied_at=max(inbound) if inbound else None,
        verified_at=max(verified) if verified else None,
    )


def money_reason(debt: Debt, facts: Facts) -> str | None:
    """Why nobody should be contacted about this debt at all (whether contacted before or not)."""
    if facts.owed.get(debt.id, 0) <= 0:
        return "paid"
    if debt.status is DebtStatus.DISPUTED or HoldReason.DISPUTE.value in {
        reason for debt_id, reason in facts.held.items() if debt_id in (None, debt.id)
    }:
        return "dispute"
    if any(debt_id in (None, debt.id) for debt_id in facts.held):
        return "hold"
    if debt.id in facts.planned:
        return "plan"
    if facts.promised:
        return "promise"
    return None


def stop_reason(case: OutreachCase | None, debt: Debt, facts: Facts) -> str | None:
    """A reason to leave the debt alone, in the words of a started case's stop where it has one."""
    if case is not None and case.stopped_reason:
        return case.stopped_reason
    reason = money_reason(debt, facts)
    started = case.started_at if case is not None else None
    if reason is None and facts.verified_at is not None and (started is None or facts.verified_at >= started):
        reason = "verified" if started else "conversation"
    if reason is None and facts.replied_at is not None:
        reason = "replied" if started and facts.replied_at >= started else "conversation"
    if case is None or reason is None:
        return reason
    return STOPS.get(reason, reason)


async def _channel_reason(session: AsyncSession, debtor: Debtor, cadence: Cadence, channel: str) -> guards.Route | str:
    """The address for a message on `channel`, or why that step cannot reach the person."""
    if channel == "sms" and cadence.sms == "never":
        return "sms_not_allowed"
    found = await guards.reach(session=session, debtor=debtor, channel=channel)
    if isinstance(found, str):
        return found
    if channel == "whatsapp" and not await consent_service.opted_in(
        session=session, channel="whatsapp", address=found.address
    ):
        return "no_whatsapp_opt_in"
    if (
        channel == "sms"
        and cadence.sms == "consent"
        and not await consent_service.opted_in(session=session, channel="sms", address=found.address)
    ):
        return "no_sms_consent"
    return found


async def decide(
    *,
    session: AsyncSession,
    debtor: Debtor,
    debt: Debt,
    case: OutreachCase | None,
    facts: Facts,
    config: OutreachConfig,
    contact: ReminderConfig,
    now: datetime,
) -> Decision:
    """The decision for one open debt now (see the module doc for the reasons)."""
    tz = zone(debtor.timezone)

    def made(
        action: str, reason: str, *, channel: str | None = None, at: datetime = now, step: int | None = None,
        address: str | None = None,
    ) -> Decision:  # fmt: skip
        return Decision(debt.id, debtor.id, debt.reference, action, channel, at, reason, step, address)

    today: date = now.astimezone(tz).date()
    if debt.due_date >= today:
        return made(SKIP, "not_overdue")
    if (reason := stop_reason(case, debt, facts)) is not None:
        return made(SKIP, reason)
    cadence = config.cadence(debtor.country)
    if cadence is None:
        return made(SKIP, "no_cadence")
    index = case.step if case is not None else 0
    if index >= len(cadence.steps):
        return made(SKIP, "cadence_done")
    step = cadence.steps[index]
    due = (case.started_at if case is not None else now) + timedelta(days=step.day)
    if due > now:
        return made(DEFER, "next_step", channel=step.channel, at=due, step=index)
    if step.channel == "call_list":
        if not (debtor.phone or "").strip():
            return made(SKIP, "no_address", channel=step.channel, step=index)
        return made(SEND, "call_list", channel=step.channel, step=index)
    route = await _channel_reason(session, debtor, cadence, step.channel)
    if isinstance(route, str):
        return made(SKIP, route, channel=step.channel, step=index)
    policy = contact_policy(contact, debtor)
    opens = policy.next_allowed(now, tz)
    if opens is None or opens > now:
        why = "holiday" if today in policy.holidays else "contact_hours"
        return made(DEFER, why, channel=step.channel, at=opens or now + timedelta(days=1), step=index)
    free_at = await guards.cap_free_at(session=session, debtor_id=debtor.id, caps=policy.caps, now=now)
    if free_at is not None:
        at = policy.next_allowed(free_at, tz) or free_at
        return made(DEFER, "cap", channel=step.channel, at=at, step=index)
    return made(SEND, f"step:{index}", channel=step.channel, step=index, address=route.address)


async def open_debts(
    *, session: AsyncSession, debtor_ids: list[int] | None = None
) -> dict[int, tuple[Debtor, list[Debt]]]:
    """Every open (or disputed) debt, by debtor, oldest due first."""
    query = (
        select(Debt, Debtor)
        .join(Debtor, Debtor.id == Debt.debtor_id)
        .where(Debt.status.in_((DebtStatus.OPEN, DebtStatus.DISPUTED)))
        .order_by(Debt.debtor_id, Debt.due_date, Debt.id)
    )
    if debtor_ids is not None:
        query = query.where(Debt.debtor_id.in_(debtor_ids or [-1]))
    found: dict[int, tuple[Debtor, list[Debt]]] = {}
    for debt, debtor in (await session.execute(query)).tuples().all():
        found.setdefault(debtor.id, (debtor, []))[1].append(debt)
    return found


async def cases_of(*, session: AsyncSession, debt_ids: list[int]) -> dict[int, OutreachCase]:
    rows = await session.scalars(select(OutreachCase).where(OutreachCase.debt_id.in_(debt_ids or [-1])))
    return {case.debt_id: case for case in rows.all()}


async def plan(
    *,
    session: AsyncSession,
    config: OutreachConfig,
    contact: ReminderConfig,
    now: datetime,
    debtor_ids: list[int] | None = None,
) -> list[Decision]:
    """One decision per open debt (read only)."""
    decisions: list[Decision] = []
    for debtor, debts in (await open_debts(session=session, debtor_ids=debtor_ids)).values():
        known = await facts(session=session, debtor=debtor, debts=debts, now=now)
        cases = await cases_of(session=session, debt_ids=[debt.id for debt in debts])
        for debt in debts:
            case = cases.get(debt.id)
            decision = await decide(
                session=session,
                debtor=debtor,
                debt=debt,
                case=case,
                facts=known,
                config=config,
                contact=contact,
                now=now,
            )
            decisions.append(decision)
    return decisions
