"""One-time web chat links (SQLite and PostgreSQL): only a hash stored, redeemed once, not after
expiry, unknown or oversized tokens give nothing (the chat opens as any other)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from money.outreach import service, tokens
from money.outreach.models import OutreachToken
from tests.money.outreach.conftest import NOW, make_debtor


async def test_a_link_is_redeemed_once_and_only_its_hash_is_kept(session: AsyncSession) -> None:
    debtor, _ = await make_debtor(session, locale="de", country="DE", timezone="Europe/Berlin")
    token = await tokens.issue(
        session=session, debtor_id=debtor.id, contact_id=None, valid=timedelta(hours=72), now=NOW
    )
    assert len(token) >= 43  # 256 random bits
    stored = await session.scalar(select(OutreachToken).where(OutreachToken.debtor_id == debtor.id))
    assert stored is not None and stored.digest == tokens.digest(token) and token not in stored.digest

    opened = await service.open_link(session=session, token=token, conversation_key="key-1", now=NOW)
    assert opened is not None and (opened.reference, opened.locale) == (debtor.reference, "de")
    assert await service.open_link(session=session, token=token, conversation_key="key-2", now=NOW) is None
    await session.refresh(stored)
    assert (stored.used_at, stored.conversation_key) == (NOW, "key-1")


async def test_expired_unknown_and_oversized_tokens_open_nothing(session: AsyncSession) -> None:
    debtor, _ = await make_debtor(session)
    token = await tokens.issue(session=session, debtor_id=debtor.id, contact_id=None, valid=timedelta(hours=1), now=NOW)
    later = NOW + timedelta(hours=1)
    assert await tokens.redeem(session=session, token=token, conversation_key="k", now=later) is None
    assert await tokens.redeem(session=session, token="x" * 43, conversation_key="k", now=NOW) is None
    assert await tokens.redeem(session=session, token="x" * 500, conversation_key="k", now=NOW) is None
    assert await tokens.redeem(session=session, token="", conversation_key="k", now=NOW) is None
    assert tokens.link("https://a.example/", token, "pt-BR") == f"https://a.example/?lang=pt-BR#t={token}"
