"""Hardship cases: a debtor said paying is hard; which option they chose is kept for the specialist.

A case can be opened before verification (nothing about a debt is disclosed for it); the debtor
is attached once they are verified. Every option chosen is kept: choosing a different one later
opens a new case row, so the agent sees the whole story, not only the last click.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from money.hardship.models import HardshipCase, HardshipOption


class UnknownCase(LookupError):
    """No hardship case with that id."""


async def for_conversation(*, session: AsyncSession, conversation_id: str) -> list[HardshipCase]:
    """Every case of the conversation, oldest first."""
    return list(
        (
            await session.scalars(
                select(HardshipCase).where(HardshipCase.conversation_id == conversation_id).order_by(HardshipCase.id)
            )
        ).all()
    )


async def latest(*, session: AsyncSession, conversation_id: str) -> HardshipCase | None:
    return (
        await session.scalars(
            select(HardshipCase)
            .where(HardshipCase.conversation_id == conversation_id)
            .order_by(HardshipCase.id.desc())
            .limit(1)
        )
    ).first()


async def record(
    *,
    session: AsyncSession,
    conversation_id: str,
    locale: str,
    debtor_id: int | None = None,
    now: datetime | None = None,
) -> HardshipCase:
    """Open a case for this report; a repeated report before any option was chosen reuses the
    undecided case instead of piling up duplicates."""
    case = await latest(session=session, conversation_id=conversation_id)
    if case is not None and case.option is None:
        case.debtor_id = case.debtor_id or debtor_id
        case.locale = locale
        await session.flush()
        return case
    case = HardshipCase(conversation_id=conversation_id, debtor_id=debtor_id, locale=locale, created_at=now or utcnow())
    session.add(case)
    await session.flush()
    return case


async def choose(
    *,
    session: AsyncSession,
    case_id: int,
    option: HardshipOption,
    debtor_id: int | None = None,
    now: datetime | None = None,
) -> HardshipCase:
    """Record the option on the case (or on a new case when this one already has another option)."""
    case = await session.get(HardshipCase, case_id)
    if case is None:
        raise UnknownCase(case_id)
    now = now or utcnow()
    if case.option is not None and case.option != option:
        case = HardshipCase(
            conversation_id=case.conversation_id,
            debtor_id=case.debtor_id,
            locale=case.locale,
            created_at=now,
        )
        session.add(case)
    if case.option != option:
        case.option, case.option_chosen_at = option, now
    case.debtor_id = case.debtor_id or debtor_id
    await session.flush()
    return case
