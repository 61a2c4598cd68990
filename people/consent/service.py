"""Read and change consent; link verified channel addresses to debtors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from people.consent.models import ChannelIdentity, Consent
from people.gdpr import suppression


async def opted_out(*, session: AsyncSession, channel: str, address: str) -> bool:
    found = await session.scalar(
        select(Consent.opted_out).where(Consent.channel == channel, Consent.address == address)
    )
    if found is None:  # an erased person's opt-out lives on as a keyed hash (gdpr/suppression.py)
        return await suppression.suppressed(session=session, channel=channel, address=address)
    return bool(found)


async def set_opted_out(
    *, session: AsyncSession, channel: str, address: str, opted_out: bool, source: str, debtor_id: int | None = None
) -> Consent:
    consent = await session.scalar(select(Consent).where(Consent.channel == channel, Consent.address == address))
    if consent is None:
        consent = Consent(channel=channel, address=address)
        session.add(consent)
    consent.opted_out, consent.source, consent.changed_at = opted_out, source, utcnow()
    if debtor_id is not None:
        consent.debtor_id = debtor_id
    await session.flush()
    return consent


async def link(*, session: AsyncSession, channel: str, address: str, debtor_id: int) -> None:
    """After verification: this address belongs to this debtor (language and context follow)."""
    existing = await session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
    )
    if existing is not None:
        existing.debtor_id, existing.linked_at = debtor_id, utcnow()
        return
    try:
        async with session.begin_nested():
            session.add(ChannelIdentity(channel=channel, address=address, debtor_id=debtor_id))
    except IntegrityError:
        pass


async def linked_debtor(*, session: AsyncSession, channel: str, address: str) -> int | None:
    return await session.scalar(
        select(ChannelIdentity.debtor_id).where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
    )
