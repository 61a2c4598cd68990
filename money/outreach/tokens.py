"""One-time links into the web chat. The link carries 256 random bits; only their SHA-256 is
stored (a database read gives no live link). A token opens the chat once, before it expires
(config `token_valid_hours`): redeeming it is one compare-and-set, so two clicks at once cannot
both win. What it gives is the debtor's case reference, filled in for them — never anything the
reference and the date of birth would not give (the date of birth is still asked)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from money.outreach.models import OutreachToken
from people.debtors import service as debtors_service
from people.debtors.models import Debtor

MAX_LENGTH = 128


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    *, session: AsyncSession, debtor_id: int, contact_id: int | None, valid: timedelta, now: datetime
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        OutreachToken(
            digest=digest(token), debtor_id=debtor_id, contact_id=contact_id, created_at=now, expires_at=now + valid
        )
    )
    await session.flush()
    return token


def link(base_url: str, token: str, locale: str) -> str:
    """The web chat page in the person's language, with the token in the fragment: browsers never
    send a fragment to the server, so it stays out of every access log; the page hands it over
    when it opens a session."""
    return f"{base_url.rstrip('/')}/?lang={locale}#t={token}"


async def redeem(*, session: AsyncSession, token: str, conversation_key: str, now: datetime) -> Debtor | None:
    """The debtor whose case reference is filled in, once; None for a token that is unknown, used or expired
    (the chat then simply opens as any other). The caller commits."""
    if not token or len(token) > MAX_LENGTH:
        return None
    hashed = digest(token)
    claimed = await session.execute(
        update(OutreachToken)
        .where(OutreachToken.digest == hashed, OutreachToken.used_at.is_(None), OutreachToken.expires_at > now)
        .values(used_at=now, conversation_key=conversation_key)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    debtor_id = await session.scalar(select(OutreachToken.debtor_id).where(OutreachToken.digest == hashed))
    return await debtors_service.get(session=session, debtor_id=debtor_id) if debtor_id is not None else None
