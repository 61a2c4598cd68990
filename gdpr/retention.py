"""Storage limitation (Art. 5(1)(e) GDPR): transcripts are not kept forever.

Once older than the locale's `transcript_retention_days` (config/privacy.yml), a message's text
(and the vulnerability signals read from it) is replaced by "[redacted]", as is the provider's
copy in the inbox. Conversations with an open dispute, an open handoff case or a person still
answering them are skipped — their texts are evidence until the case is closed — and so are all
conversations of a debtor with an open dispute. Who said what when (direction, time, intent,
language) stays for statistics.

Idempotent: a redacted text is never touched again, so running it twice, or on two gateways,
changes nothing more. Rasa's copy needs no job: its tracker store is in memory (bot/endpoints.yml)
and does not outlive a restart.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, null, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.database import retry_when_locked, utcnow
from audit import service as audit_service
from conversations.models import Conversation, Message
from disputes.models import Dispute, DisputeStatus
from gdpr.config import PrivacyConfig, load
from gdpr.registry import ERASED_TEXT
from handoff.models import Handoff, Status
from inbox.models import InboundEvent, InboxStatus

log = logging.getLogger(__name__)
REDACTED_TEXT = "[redacted]"
DONE_TEXTS = (REDACTED_TEXT, ERASED_TEXT)


def protected_conversations() -> Select[tuple[str]]:
    """Conversations whose texts must stay for now (open cases)."""
    return select(  # type: ignore[return-value]
        union(
            select(Dispute.conversation_id).where(
                Dispute.status == DisputeStatus.OPEN, Dispute.conversation_id.is_not(None)
            ),
            select(Conversation.id)
            .join(Dispute, Dispute.debtor_id == Conversation.debtor_id)
            .where(Dispute.status == DisputeStatus.OPEN),
            select(Handoff.conversation_id).where(Handoff.status != Status.RESOLVED),
            select(Conversation.id).where(Conversation.state != "bot"),
        ).subquery()
    )


def _in_locale(locale: str | None, configured: list[str]) -> ColumnElement[bool]:
    """Conversations of a configured locale, or (None) of any other or no locale."""
    if locale is not None:
        return Conversation.locale == locale
    return or_(Conversation.locale.is_(None), Conversation.locale.not_in(configured))


async def redact_expired(*, session: AsyncSession, config: PrivacyConfig, now: datetime) -> dict[str, int]:
    """Redact every expired transcript text; returns how many messages and inbox rows changed."""
    configured = sorted(config.locales)
    messages = events = 0
    for locale in [*configured, None]:
        cutoff = now - timedelta(days=config.transcript_days_for(locale))
        chats = select(Conversation.id).where(_in_locale(locale, configured))
        result = await session.execute(
            update(Message)
            .where(
                Message.created_at < cutoff,
                Message.text.not_in(DONE_TEXTS),
                Message.conversation_id.in_(chats),
                Message.conversation_id.not_in(protected_conversations()),
            )
            .values(text=REDACTED_TEXT, signals=null(), distress_score=None)
            .execution_options(synchronize_session=False)
        )
        messages += int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await session.execute(
            update(InboundEvent)
            .where(
                InboundEvent.received_at < cutoff,
                InboundEvent.status == InboxStatus.DONE,
                InboundEvent.text.not_in(DONE_TEXTS),
                InboundEvent.conversation_id.in_(chats),
                InboundEvent.conversation_id.not_in(protected_conversations()),
            )
            .values(text=REDACTED_TEXT)
            .execution_options(synchronize_session=False)
        )
        events += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return {"messages": messages, "inbound_events": events}


async def run(
    *, session: AsyncSession, now: datetime | None = None, config: PrivacyConfig | None = None
) -> dict[str, int]:
    """The daily job (app/scheduler.py) and the admin's "run now": redact, and audit what changed."""
    now = now or utcnow()
    changed = await redact_expired(session=session, config=config or load(), now=now)
    if any(changed.values()):
        await audit_service.record(session=session, action="gdpr.retention", detail=changed, now=now)
    return changed


async def run_scheduled(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The scheduler's entry point: one transaction, retried while SQLite is busy."""

    async def work() -> dict[str, int]:
        async with sessionmaker() as session:
            changed = await run(session=session)
            await session.commit()
            return changed

    changed = await retry_when_locked(work)
    log.info("gdpr.retention", extra=changed)
