"""Right to erasure (Art. 17 GDPR) with the bookkeeping records the law requires kept.

An erasure request is recorded (who, when, why), then every registered table is treated as
people/gdpr/registry.py says: identity, contact details and everything the person or staff wrote about
them is replaced or deleted; ledger, payments, debts and agreements are kept without anything that
names the person, until `retain_until` (config/privacy.yml, per jurisdiction). Opted-out addresses stay
opted out through keyed hashes (people/gdpr/suppression.py). The case reference is replaced by a random
one and the date of birth by a sentinel, so nobody can verify as the person any more.

Idempotent: a debtor erased once is not erased again (the completed request is returned). While an
open dispute or handoff case exists the request is recorded as blocked, with what blocks it.

Rasa keeps its own copy of each conversation (the tracker), after the database commit erased by
`clear_trackers` in every store Rasa may use: one Rasa (bot/endpoints.yml) keeps trackers in
memory, emptied through its HTTP API (PUT /conversations/{id}/tracker/events with [], on the
conversation's instance); sharded Rasa (bot/endpoints-sharded.yml, docker-compose) keeps them in an
SQL tracker store that the API only appends to, so the gateway deletes the conversations' rows
from its `events` table itself (RASA_TRACKER_STORE_URL, engine/conversations/tracker_store.py). A
conversation is reported cleared only when every store took it; the rest are listed as failed
and can be retried (POST /erasures/{id}/rasa).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, delete, func, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels import sessions as sessions_service
from core.database import utcnow
from engine.conversations.rasa_client import RasaClient
from engine.conversations.tracker_store import TrackerStoreError
from people.auth.models import StaffUser
from people.debtors.models import Debtor
from people.gdpr import suppression
from people.gdpr.config import PrivacyConfig
from people.gdpr.models import ErasureRequest, ErasureStatus
from people.gdpr.registry import REGISTRY, Action, Entry, Kind, PerRow, Prefixed
from people.gdpr.service import GdprError, Scope, completed_erasure, resolve, table, where
from people.jurisdiction import service as jurisdiction

OPEN_HANDOFF_STATES = ("queued", "agent")


async def _blockers(session: AsyncSession, scope: Scope) -> list[str]:
    """Cases still being worked on: their details are needed until they are closed."""
    t, conversations = table, sorted(scope.of(Kind.CONVERSATION))
    blockers = []
    disputes = t("disputes")
    if disputes is not None:
        mine = disputes.c.debtor_id == scope.debtor_id
        if conversations:
            mine = mine | disputes.c.conversation_id.in_(conversations)
        if await session.scalar(select(disputes.c.id).where(mine, disputes.c.status == "open").limit(1)):
            blockers.append("open_dispute")
    handoffs, chats = t("handoffs"), t("conversations")
    if conversations and handoffs is not None and chats is not None:
        open_case = await session.scalar(
            select(handoffs.c.id)
            .where(handoffs.c.conversation_id.in_(conversations), handoffs.c.status != "resolved")
            .limit(1)
        )
        waiting = await session.scalar(
            select(chats.c.id).where(chats.c.id.in_(conversations), chats.c.state.in_(OPEN_HANDOFF_STATES)).limit(1)
        )
        if open_case or waiting:
            blockers.append("open_handoff")
    return blockers


async def _keep_opt_outs(session: AsyncSession, scope: Scope) -> int:
    """Before the consent rows go: each opted-out address becomes a keyed hash."""
    consents = table("consents")
    if consents is None:
        return 0
    entry = next(e for e in REGISTRY if e.table == "consents")
    rows = await session.execute(
        select(consents.c.channel, consents.c.address, consents.c.opted_out).where(where(entry, consents, scope))
    )
    kept = 0
    for channel, address, opted_out in rows.tuples().all():
        if opted_out:
            await suppression.suppress(session=session, channel=channel, address=address)
            kept += 1
        else:
            await suppression.lift(session=session, channel=channel, address=address)
    return kept


async def _end_webchat_sessions(session: AsyncSession, scope: Scope) -> int:
    """Before the conversations' addresses are replaced: the web chat sessions still open on them."""
    conversations = table("conversations")
    assert conversations is not None
    keys = await session.scalars(
        select(conversations.c.external_id).where(
            conversations.c.id.in_(sorted(scope.of(Kind.CONVERSATION))), conversations.c.channel == "webchat"
        )
    )
    return await sessions_service.end_for(session=session, conversation_keys=set(keys.all()))


async def _apply(session: AsyncSession, entry: Entry, scope: Scope) -> int:
    found = table(entry.table)
    if found is None or entry.action is Action.KEEP:
        return 0
    condition = where(entry, found, scope)
    if entry.action is Action.DELETE:
        return int((await session.execute(delete(found).where(condition))).rowcount or 0)  # type: ignore[attr-defined]
    in_sql: dict[str, Any] = {}
    per_row: dict[str, PerRow] = {}
    for name, replacement in entry.redact.items():
        column = found.c[name]
        if isinstance(replacement, PerRow):
            per_row[name] = replacement
        elif isinstance(replacement, Prefixed):
            in_sql[name] = literal(replacement.prefix, String) + cast(
                found.c[found.primary_key.columns.keys()[0]], String
            )
        elif replacement is None:
            in_sql[name] = null()
        elif column.nullable:  # an empty optional field stays empty: nothing was there to erase
            in_sql[name] = case((column.is_(None), null()), else_=literal(replacement, column.type))
        else:
            in_sql[name] = literal(replacement, column.type)
    changed = 0
    if in_sql:
        result = await session.execute(update(found).where(condition).values(in_sql))
        changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if per_row:
        [key] = found.primary_key.columns.keys()
        rows = await session.execute(select(found.c[key], *(found.c[n] for n in per_row)).where(condition))
        matched = rows.all()
        for row in matched:
            values = {name: fn.fn(row[i + 1]) for i, (name, fn) in enumerate(per_row.items())}
            await session.execute(update(found).where(found.c[key] == row[0]).values(values))
        changed = max(changed, len(matched))
    return changed


async def _last_booking(session: AsyncSession, scope: Scope) -> datetime | None:
    transactions = table("ledger_transactions")
    ids = sorted(scope.of(Kind.TRANSACTION))
    if transactions is None or not ids:
        return None
    found = await session.scalar(select(func.max(transactions.c.created_at)).where(transactions.c.id.in_(ids)))
    return found if isinstance(found, datetime) else None


async def erase(
    *,
    session: AsyncSession,
    debtor_id: int,
    staff: StaffUser,
    reason: str,
    config: PrivacyConfig,
    now: datetime | None = None,
) -> tuple[ErasureRequest, bool]:
    """Erase the debtor (the caller commits). Returns the request and whether this call created it
    (False: the debtor had already been erased; nothing was changed)."""
    now = now or utcnow()
    # Row lock (PostgreSQL; SQLite already has one writer): two admins erasing at once get one erasure.
    debtor = await session.scalar(select(Debtor).where(Debtor.id == debtor_id).with_for_update())
    if debtor is None:
        raise GdprError("not_found", 404)
    done = await completed_erasure(session=session, debtor_id=debtor.id)
    if done is not None:
        return done, False
    scope = await resolve(session=session, debtor=debtor)
    request = ErasureRequest(
        debtor_id=debtor.id,
        requested_by=staff.id,
        requested_by_username=staff.username,
        reason=reason.strip()[:500],
        reference_hash=suppression.keyed_hash("reference", debtor.reference),
        created_at=now,
        blockers=[],
        detail={},
    )
    blockers = await _blockers(session, scope)
    if blockers:
        request.status, request.blockers = ErasureStatus.BLOCKED, blockers
        session.add(request)
        await session.flush()
        return request, True
    country = jurisdiction.country_of(debtor)  # the bookkeeping law of their jurisdiction
    suppressed = await _keep_opt_outs(session, scope)
    sessions_ended = await _end_webchat_sessions(session, scope)
    rows = {}
    for entry in REGISTRY:
        changed = await _apply(session, entry, scope)
        if changed:
            rows[entry.table] = changed
    last = await _last_booking(session, scope)
    request.status = ErasureStatus.COMPLETED
    request.completed_at = now
    request.retain_until = config.retain_ledger_until(country, (last or now).date())
    request.detail = {
        "rows": rows,
        "opt_outs_kept": suppressed,
        "webchat_sessions_ended": sessions_ended,
        "conversations": sorted(scope.of(Kind.CONVERSATION)),
    }
    session.add(request)
    await session.flush()
    session.expire(debtor)
    return request, True


async def clear_trackers(*, rasa: RasaClient, conversation_ids: Iterable[str]) -> dict[str, Any]:
    """Erase Rasa's copies of the conversations (see the module docstring); reports how many were
    cleared, which failed in some store, and how many SQL tracker events were deleted."""
    ids = sorted(set(conversation_ids))
    failed: set[str] = set()
    # The API first: it takes Rasa's lock on the conversation, so a turn in flight finishes (and
    # writes its events) before the rows are deleted.
    for conversation_id in ids:
        if not await rasa.reset_tracker(sender=conversation_id):
            failed.add(conversation_id)
    report: dict[str, Any] = {}
    if rasa.tracker_store is not None:
        try:
            report["events_deleted"] = await rasa.tracker_store.delete(ids)
        except TrackerStoreError as exc:
            failed.update(ids)
            report["tracker_store_error"] = str(exc)
    return {"cleared": len(ids) - len(failed), "failed": sorted(failed), **report}
