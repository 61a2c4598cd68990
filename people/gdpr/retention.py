"""Storage limitation (Art. 5(1)(e) GDPR): transcripts are not kept forever.

Once older than the `transcript_retention_days` of the jurisdiction of the conversation's debtor
(config/privacy.yml; the debtor's country, never the chat's language; the fallback for
conversations of nobody identified), a message's text
(and the vulnerability signals read from it) is replaced by "[redacted]", as is the provider's
copy in the inbox. Conversations with an open dispute, an open handoff case or a person still
answering them are skipped — their texts are evidence until the case is closed — and so are all
conversations of a debtor with an open dispute. Who said what when (direction, time, intent,
language) stays for statistics.

Idempotent: a redacted text is never touched again, so running it twice, or on two gateways,
changes nothing more.

Rasa's copy goes too (given the RasaClient: the daily job and the admin's "run now"): in an SQL
tracker store (sharded Rasa, docker-compose) the events older than the cutoff of every
conversation begun before it are deleted — again on every run, so a run that could not reach the
store is made good by the next; a conversation idle since before its cutoff whose texts are being
redacted now also has its in-memory tracker emptied through Rasa's API (people/gdpr/erase.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, false, null, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import retry_when_locked, utcnow
from engine.conversations.models import Conversation, Message
from engine.conversations.rasa_client import RasaClient
from engine.conversations.tracker_store import TrackerStoreError
from engine.inbox.models import InboundEvent, InboxStatus
from handoff.models import Handoff, Status
from money.disputes.models import Dispute, DisputeStatus
from people.audit import service as audit_service
from people.debtors.models import Debtor
from people.gdpr.config import PrivacyConfig, load
from people.gdpr.registry import ERASED_TEXT
from people.jurisdiction import service as jurisdiction

log = logging.getLogger(__name__)
REDACTED_TEXT = "[redacted]"
DONE_TEXTS = (REDACTED_TEXT, ERASED_TEXT)


def protected_conversations() -> Select[tuple[str]]:
    """Conversations whose texts must stay for now (open cases)."""
    return select(
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


def _in_jurisdiction(country: str | None, configured: list[str]) -> ColumnElement[bool]:
    """Conversations of a debtor in a configured jurisdiction, or (None) all the others: of nobody
    identified, or of a debtor whose jurisdiction has no retention of its own."""
    if country is not None:
        return Conversation.debtor_id.in_(select(Debtor.id).where(jurisdiction.debtors_in(country)))
    elsewhere = or_(false(), *(jurisdiction.debtors_in(code) for code in configured))
    return or_(Conversation.debtor_id.is_(None), Conversation.debtor_id.not_in(select(Debtor.id).where(elsewhere)))


async def redact_expired(*, session: AsyncSession, config: PrivacyConfig, now: datetime) -> dict[str, int]:
    """Redact every expired transcript text; returns how many messages and inbox rows changed."""
    configured = sorted(config.countries)
    messages = events = 0
    for country in [*configured, None]:
        cutoff = now - timedelta(days=config.transcript_days_for(country))
        chats = select(Conversation.id).where(_in_jurisdiction(country, configured))
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


@dataclass
class RasaTargets:
    """What to erase from Rasa: per cutoff (Unix time) the conversations whose older events go
    from its SQL tracker store, and the conversations whose in-memory tracker is emptied."""

    before: dict[float, list[str]] = field(default_factory=dict)
    reset: list[str] = field(default_factory=list)


async def rasa_targets(*, session: AsyncSession, config: PrivacyConfig, now: datetime) -> RasaTargets:
    """Read before the redaction (which conversations are being redacted now)."""
    configured = sorted(config.countries)
    targets = RasaTargets()
    for country in [*configured, None]:
        cutoff = now - timedelta(days=config.transcript_days_for(country))
        open_ = Conversation.id.not_in(protected_conversations())
        begun = select(Conversation.id).where(
            _in_jurisdiction(country, configured), Conversation.created_at < cutoff, open_
        )
        ids = list((await session.scalars(begun)).all())
        if ids:  # jurisdictions with the same retention share a cutoff
            targets.before.setdefault(cutoff.timestamp(), []).extend(ids)
        expiring = select(Message.conversation_id).where(Message.created_at < cutoff, Message.text.not_in(DONE_TEXTS))
        idle = begun.where(Conversation.last_message_at < cutoff, Conversation.id.in_(expiring))
        targets.reset += list((await session.scalars(idle)).all())
    return targets


async def forget_in_rasa(*, rasa: RasaClient, targets: RasaTargets) -> dict[str, int]:
    """Delete the expired events from Rasa's SQL tracker store and empty idle in-memory trackers."""
    deleted = failed = reset = 0
    if rasa.tracker_store is not None:
        for before, ids in targets.before.items():
            try:
                deleted += await rasa.tracker_store.delete(ids, before=before)
            except TrackerStoreError:
                failed += len(ids)  # retried by the next run
    for conversation_id in targets.reset:
        if await rasa.reset_tracker(sender=conversation_id):
            reset += 1
        else:
            failed += 1
    if failed:
        log.warning("gdpr.retention.rasa_failed", extra={"conversations": failed})
    return {"rasa_events_deleted": deleted, "rasa_trackers_reset": reset, "rasa_failed": failed}


async def run(
    *,
    session: AsyncSession,
    now: datetime | None = None,
    config: PrivacyConfig | None = None,
    rasa: RasaClient | None = None,
) -> dict[str, int]:
    """The daily job (app/scheduler.py) and the admin's "run now": redact, and audit what changed.
    With `rasa`, the redaction is committed before Rasa's copies are erased (outside the write
    transaction); the caller commits the audit record."""
    now, config = now or utcnow(), config or load()
    targets = await rasa_targets(session=session, config=config, now=now) if rasa is not None else None
    changed = await redact_expired(session=session, config=config, now=now)
    if rasa is not None and targets is not None:
        await session.commit()
        changed.update(await forget_in_rasa(rasa=rasa, targets=targets))
    if any(changed.values()):
        await audit_service.record(session=session, action="gdpr.retention", detail=changed, now=now)
    return changed


async def run_scheduled(sessionmaker: async_sessionmaker[AsyncSession], rasa: RasaClient | None = None) -> None:
    """The scheduler's entry point: one transaction, retried while SQLite is busy."""

    async def work() -> dict[str, int]:
        async with sessionmaker() as session:
            changed = await run(session=session, rasa=rasa)
            await session.commit()
            return changed

    changed = await retry_when_locked(work)
    log.info("gdpr.retention", extra=changed)
