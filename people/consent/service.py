"""Read and change consent; link verified channel addresses to debtors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Happening, Window
from core.database import table_of, utcnow
from people.consent.models import ChannelIdentity, Consent
from people.gdpr import suppression


async def opted_out(*, session: AsyncSession, channel: str, address: str) -> bool:
    found = await session.scalar(
        select(Consent.opted_out).where(Consent.channel == channel, Consent.address == address)
    )
    if found is None:  # an erased person's opt-out lives on as a keyed hash (people/gdpr/suppression.py)
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


IMPORT_SOURCE = "import"


async def record_imported(
    *, session: AsyncSession, consents: Sequence[tuple[str, str, int, bool]], source: str
) -> None:
    """Consents a creditor's file states, as (channel, address, debtor id, consented). A "no" is
    always recorded; a "yes" never lifts an opt-out the person made themselves (STOP, an intent,
    an erased person's suppression), only one an earlier import recorded."""
    if not consents:
        return
    blocked = await suppression.suppressed_among(
        session=session, addresses=[(channel, address) for channel, address, _, consented in consents if consented]
    )
    existing = {
        (c.channel, c.address): c
        for c in (
            await session.scalars(select(Consent).where(Consent.address.in_({a for _, a, _, _ in consents})))
        ).all()
    }
    new: dict[tuple[str, str], dict[str, object]] = {}
    for channel, address, debtor_id, consented in consents:
        consent = existing.get((channel, address))
        if consent is None:
            if not (consented and (channel, address) in blocked):
                new[(channel, address)] = {
                    "channel": channel, "address": address, "debtor_id": debtor_id, "opted_out": not consented,
                    "source": source, "changed_at": utcnow(),
                }  # fmt: skip
        elif consent.opted_out != (not consented) and (not consented or consent.source.startswith(IMPORT_SOURCE)):
            consent.opted_out, consent.source, consent.changed_at = not consented, source, utcnow()
    if new:  # thousands per import chunk: one executemany
        await session.execute(insert(table_of(Consent)), list(new.values()))
    await session.flush()


async def activity(*, session: AsyncSession, window: Window) -> list[Happening]:
    """Opt-outs and opt-ins of a known debtor changed in the window: the channel and how (e.g.
    `keyword:STOP`), never the address. What an imported file stated is the creditor's own news,
    not reported back. Only the latest change per address is kept (the table holds the state)."""
    consents = await session.scalars(
        select(Consent).where(
            window.where(Consent.changed_at),
            Consent.debtor_id.is_not(None),
            ~Consent.source.startswith(IMPORT_SOURCE),
        )
    )
    return [
        Happening(c.changed_at, "opt_out" if c.opted_out else "opt_in", c.debtor_id, channel=c.channel,
                  detail=c.source)
        for c in consents.all()
        if c.debtor_id is not None
    ]  # fmt: skip


async def opted_in(*, session: AsyncSession, channel: str, address: str) -> bool:
    """A recorded yes for this address (an import's consent or the person's own START), not
    merely the absence of a no: what WhatsApp, and SMS where the law asks for consent, need."""
    found = await session.scalar(
        select(Consent.opted_out).where(Consent.channel == channel, Consent.address == address)
    )
    return found is False and not await suppression.suppressed(session=session, channel=channel, address=address)
