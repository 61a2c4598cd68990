"""Opt-outs that outlive an erasure.

When a person is erased, their channel addresses (phone numbers, Telegram chats) are removed
from `consents` and `channel_identities`. But a STOP must keep working: if the same number
writes again, or a creditor later places a new debt with that number, nothing may be sent there.
So for every address that was opted out, a keyed hash (HMAC-SHA256 with the installation's
secret, people/gdpr/config.py) of channel + address is kept in `consent_suppressions`. The hash lets a
lookup recognise the address, but the address cannot be read back from the database (Art. 17(3)(b)
and Art. 21(3) GDPR: keeping the minimum needed to honour the objection).

`consent.service.opted_out` consults `suppressed()` when it has no row for the address; a newer
explicit START (a plain `consents` row) takes precedence over the suppression.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from people.gdpr.config import hash_key
from people.gdpr.models import Suppression


def keyed_hash(*parts: str) -> str:
    """HMAC-SHA256 (hex) of the parts with the installation's secret key."""
    return hmac.new(hash_key(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def address_hash(channel: str, address: str) -> str:
    return keyed_hash("address", channel, address.strip())


async def suppressed(*, session: AsyncSession, channel: str, address: str) -> bool:
    found = await session.scalar(
        select(Suppression.id).where(
            Suppression.channel == channel, Suppression.address_hash == address_hash(channel, address)
        )
    )
    return found is not None


async def suppressed_among(*, session: AsyncSession, addresses: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (channel, address) pairs are suppressed: one query for a whole import chunk."""
    hashes = {address_hash(channel, address): (channel, address) for channel, address in addresses}
    if not hashes:
        return set()
    found = await session.execute(
        select(Suppression.channel, Suppression.address_hash).where(Suppression.address_hash.in_(hashes))
    )
    return {hashes[h] for channel, h in found.all() if hashes[h][0] == channel}


async def suppress(*, session: AsyncSession, channel: str, address: str) -> None:
    """Remember that this address is opted out (idempotent)."""
    if await suppressed(session=session, channel=channel, address=address):
        return
    try:
        async with session.begin_nested():
            session.add(Suppression(channel=channel, address_hash=address_hash(channel, address)))
    except IntegrityError:
        pass  # stored concurrently: same outcome


async def lift(*, session: AsyncSession, channel: str, address: str) -> None:
    """The person opted in again on this address before being erased: their latest wish counts."""
    await session.execute(
        delete(Suppression).where(
            Suppression.channel == channel, Suppression.address_hash == address_hash(channel, address)
        )
    )
