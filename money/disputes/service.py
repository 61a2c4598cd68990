"""Dispute cases: open one (which pauses collection on the debt), resolve it, list them.

Keyword-only functions over an AsyncSession; the caller commits. Collection is paused through a
`CollectionHold` (holds.service), so every place that asks for money honours it at once.

Resolution, decided by an agent:
- rejected (or withdrawn): the debt is owed after all, the hold is released and collection resumes;
- upheld: the debtor was right, the hold stays and the debt stays out of collection for good
  (correcting or closing the debt itself is the creditor's job, outside this assistant).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Happening, Window
from core.database import utcnow
from core.errors import RequestRefused
from core.pii.cards import redact_card_numbers
from money.disputes.models import Dispute, DisputeReason, DisputeStatus
from money.holds import service as holds_service
from money.holds.models import HoldReason
from people.debtors.models import Debt

MAX_DETAILS = 2000
MAX_NOTE = 500
RESOLUTIONS = (DisputeStatus.UPHELD, DisputeStatus.REJECTED, DisputeStatus.WITHDRAWN)


class DisputeError(RequestRefused):
    """A request that cannot be done; `code` is what the console shows (with HTTP `status`)."""


@dataclass(frozen=True)
class DisputeView:
    """A dispute with the debt it is about, as the agent console lists it."""

    dispute: Dispute
    debt_reference: str
    creditor: str

    def as_dict(self) -> dict[str, Any]:
        d = self.dispute
        return {
            "id": d.id,
            "debt_id": d.debt_id,
            "debt_reference": self.debt_reference,
            "creditor": self.creditor,
            "reason": d.reason.value,
            "details": d.details,
            "status": d.status.value,
            "opened_at": d.opened_at.isoformat(),
            "resolved_at": d.resolved_at.isoformat() if d.resolved_at else None,
            "resolved_by": d.resolved_by,
            "resolution_note": d.resolution_note,
        }


def _clean(text: str | None, limit: int) -> str | None:
    """The debtor's (or agent's) words, without card numbers, bounded in length."""
    if not text or not text.strip():
        return None
    return redact_card_numbers(text.strip())[0][:limit]


async def open_for_debt(*, session: AsyncSession, debt_id: int) -> Dispute | None:
    return (
        await session.scalars(
            select(Dispute)
            .where(Dispute.debt_id == debt_id, Dispute.status == DisputeStatus.OPEN)
            .order_by(Dispute.id)
            .limit(1)
        )
    ).first()


async def open_dispute(
    *,
    session: AsyncSession,
    debtor_id: int,
    debt_id: int,
    reason: DisputeReason,
    details: str | None = None,
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Open a case on one of the debtor's debts and pause collection on it. A debt that already
    has an open case gets that case back (no second case, no second hold)."""
    # Locking the debt row serialises two simultaneous requests for it (PostgreSQL; SQLite
    # serialises writers anyway), so the second one finds the first one's case.
    debt = await session.scalar(select(Debt).where(Debt.id == debt_id).with_for_update())
    if debt is None or debt.debtor_id != debtor_id:
        raise DisputeError("debt_not_found", 404)
    existing = await open_for_debt(session=session, debt_id=debt_id)
    if existing is not None:
        return existing
    now = now or utcnow()
    dispute = Dispute(
        debtor_id=debtor_id,
        debt_id=debt_id,
        conversation_id=conversation_id,
        reason=DisputeReason(reason),
        details=_clean(details, MAX_DETAILS),
        status=DisputeStatus.OPEN,
        opened_at=now,
    )
    session.add(dispute)
    await session.flush()
    await holds_service.place(
        session=session, debtor_id=debtor_id, reason=HoldReason.DISPUTE, debt_id=debt_id, source_id=dispute.id, now=now
    )
    return dispute


async def resolve_dispute(
    *,
    session: AsyncSession,
    dispute_id: int,
    status: DisputeStatus,
    agent_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
) -> Dispute:
    """An agent's decision (see the module docstring for what each outcome does to the hold).
    A case is resolved once: a second decision, even a concurrent one, is refused."""
    try:
        status = DisputeStatus(status)
    except ValueError:
        raise DisputeError("invalid_status", 422) from None
    if status not in RESOLUTIONS:
        raise DisputeError("invalid_status", 422)
    dispute = await session.get(Dispute, dispute_id)
    if dispute is None:
        raise DisputeError("dispute_not_found", 404)
    now = now or utcnow()
    # Compare-and-set: of two agents resolving at once, exactly one wins.
    result = await session.execute(
        update(Dispute)
        .where(Dispute.id == dispute_id, Dispute.status == DisputeStatus.OPEN)
        .values(status=status, resolved_at=now, resolved_by=agent_id, resolution_note=_clean(note, MAX_NOTE))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DisputeError("dispute_already_resolved", 409)
    await session.refresh(dispute)
    if status is not DisputeStatus.UPHELD:
        await holds_service.release(session=session, reason=HoldReason.DISPUTE, source_id=dispute.id, now=now)
    return dispute


async def get(*, session: AsyncSession, dispute_id: int) -> Dispute | None:
    return await session.get(Dispute, dispute_id)


async def open_disputes(*, session: AsyncSession, debtor_id: int) -> list[Dispute]:
    """The debtor's cases waiting for a decision, oldest first."""
    return list(
        (
            await session.scalars(
                select(Dispute)
                .where(Dispute.debtor_id == debtor_id, Dispute.status == DisputeStatus.OPEN)
                .order_by(Dispute.id)
            )
        ).all()
    )


async def _views(session: AsyncSession, *conditions: Any) -> list[DisputeView]:
    rows = await session.execute(
        select(Dispute, Debt.reference, Debt.creditor)
        .join(Debt, Debt.id == Dispute.debt_id)
        .where(*conditions)
        .order_by(Dispute.id)
    )
    return [DisputeView(dispute, reference, creditor) for dispute, reference, creditor in rows.all()]


async def for_conversation(*, session: AsyncSession, conversation_id: str) -> list[DisputeView]:
    """Every case opened in this conversation, with the debt's reference (agent console)."""
    return await _views(session, Dispute.conversation_id == conversation_id)


async def for_debtor(*, session: AsyncSession, debtor_id: int) -> list[DisputeView]:
    """Every case of the debtor, from any conversation or channel (agent console)."""
    return await _views(session, Dispute.debtor_id == debtor_id)


async def activity(*, session: AsyncSession, window: Window) -> list[Happening]:
    """Disputes opened and resolved in the window (the reason or outcome as a code: never the
    debtor's own words nor the staff note)."""
    disputes = await session.scalars(
        select(Dispute).where(window.where(Dispute.opened_at) | window.where(Dispute.resolved_at))
    )
    found = []
    for dispute in disputes.all():
        if dispute.opened_at in window:
            found.append(Happening(dispute.opened_at, "dispute_opened", dispute.debtor_id, dispute.debt_id,
                                   detail=f"dispute:{dispute.id} {dispute.reason.value}"))  # fmt: skip
        if dispute.resolved_at is not None and dispute.resolved_at in window:
            found.append(Happening(dispute.resolved_at, "dispute_resolved", dispute.debtor_id, dispute.debt_id,
                                   detail=f"dispute:{dispute.id} {dispute.status.value}"))  # fmt: skip
    return found
