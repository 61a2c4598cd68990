"""Debtor segments, for choosing a tone per kind of debtor.

A conversation's segments, most important first (the first with a tone set for the locale wins):
1. `vulnerable` (derived): a hardship case, or a hand-over for self-harm, vulnerability or
   hardship, in this conversation or any conversation of the same debtor;
2. the segment an admin assigned to the debtor (`debtor_segments`, one per debtor, any name such
   as `business` or `high_balance`);
3. `returning` (derived) when the debtor had an earlier conversation, else `new`.
Unverified conversations (no debtor yet) can only be `vulnerable`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation
from handoff.models import Handoff, Reason
from locales import Catalog
from locales.tone.models import DebtorSegment, ToneDefaultVersion
from locales.tone.service import ToneError, check_segment
from money.hardship.models import HardshipCase
from people.debtors.models import Debtor

VULNERABLE, RETURNING, NEW = "vulnerable", "returning", "new"
DERIVED: tuple[str, ...] = (VULNERABLE, RETURNING, NEW)
VULNERABLE_REASONS = (Reason.SELF_HARM, Reason.VULNERABILITY, Reason.HARDSHIP)


async def _vulnerable(session: AsyncSession, conversation_id: str | None, debtor_id: int | None) -> bool:
    mine: list[ColumnElement[bool]] = [Conversation.id == conversation_id] if conversation_id else []
    if debtor_id:
        mine.append(Conversation.debtor_id == debtor_id)
    if not mine:
        return False
    conversations = select(Conversation.id).where(or_(*mine))
    cases: list[ColumnElement[bool]] = [HardshipCase.conversation_id.in_(conversations)]
    if debtor_id:
        cases.append(HardshipCase.debtor_id == debtor_id)
    hardship = exists().where(or_(*cases))
    handoff = exists().where(Handoff.conversation_id.in_(conversations), Handoff.reason.in_(VULNERABLE_REASONS))
    return bool(await session.scalar(select(or_(hardship, handoff))))


async def _assigned(session: AsyncSession, debtor_id: int) -> str | None:
    return await session.scalar(select(DebtorSegment.segment).where(DebtorSegment.debtor_id == debtor_id))


async def segments_of(*, session: AsyncSession, conversation_id: str) -> list[str]:
    """The conversation's segments, most important first."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return []
    found = [VULNERABLE] if await _vulnerable(session, conversation.id, conversation.debtor_id) else []
    if conversation.debtor_id is None:
        return found
    assigned = await _assigned(session, conversation.debtor_id)
    if assigned and assigned not in found:
        found.append(assigned)
    earlier = await session.scalar(
        select(
            exists().where(
                Conversation.debtor_id == conversation.debtor_id,
                Conversation.id != conversation.id,
                Conversation.created_at < conversation.created_at,
            )
        )
    )
    found.append(RETURNING if earlier else NEW)
    return found


async def segments_of_debtor(*, session: AsyncSession, debtor_id: int) -> list[str]:
    """The segments a next conversation with this debtor would have (admin page lookup)."""
    found = [VULNERABLE] if await _vulnerable(session, None, debtor_id) else []
    assigned = await _assigned(session, debtor_id)
    if assigned and assigned not in found:
        found.append(assigned)
    talked = await session.scalar(select(exists().where(Conversation.debtor_id == debtor_id)))
    found.append(RETURNING if talked else NEW)
    return found


async def tone_for(*, session: AsyncSession, catalog: Catalog, conversation_id: str, locale: str | None) -> str | None:
    """The segment tone for this conversation, or None (then the locale's default applies).
    No database read at all while no segment has a tone in this locale."""
    if not catalog.segment_tones(locale):
        return None
    return catalog.segment_tone(locale, await segments_of(session=session, conversation_id=conversation_id))


# -- explicit assignment ---------------------------------------------------------------------
async def assign(*, session: AsyncSession, reference: str, segment: str, author_id: int | None) -> DebtorSegment:
    segment = check_segment(segment)
    debtor = await session.scalar(select(Debtor).where(func.upper(Debtor.reference) == reference.strip().upper()))
    if debtor is None:
        raise ToneError("unknown_debtor", 404)
    row = await session.scalar(select(DebtorSegment).where(DebtorSegment.debtor_id == debtor.id))
    if row is None:
        row = DebtorSegment(debtor_id=debtor.id, segment=segment, assigned_by_id=author_id)
        session.add(row)
    else:
        row.segment, row.assigned_by_id, row.assigned_at = segment, author_id, utcnow()
    await session.flush()
    return row


async def unassign(*, session: AsyncSession, debtor_id: int) -> None:
    row = await session.scalar(select(DebtorSegment).where(DebtorSegment.debtor_id == debtor_id))
    if row is None:
        raise ToneError("not_assigned", 404)
    await session.delete(row)
    await session.flush()


async def assignments(*, session: AsyncSession) -> list[tuple[DebtorSegment, Debtor]]:
    rows = await session.execute(
        select(DebtorSegment, Debtor).join(Debtor, Debtor.id == DebtorSegment.debtor_id).order_by(DebtorSegment.segment)
    )
    return [(segment, debtor) for segment, debtor in rows.tuples()]


async def counts(*, session: AsyncSession) -> dict[str, int]:
    """Debtors assigned to each segment."""
    rows = await session.execute(select(DebtorSegment.segment, func.count()).group_by(DebtorSegment.segment))
    return {segment: int(n) for segment, n in rows.tuples().all()}


async def known(*, session: AsyncSession) -> list[str]:
    """Every segment worth showing: the derived ones, assigned ones, and any with a tone."""
    assigned = set(await session.scalars(select(DebtorSegment.segment).distinct()))
    toned = set(
        await session.scalars(select(ToneDefaultVersion.segment).where(ToneDefaultVersion.segment.is_not(None)))
    )
    return [*DERIVED, *sorted((assigned | {s for s in toned if s}) - set(DERIVED))]
