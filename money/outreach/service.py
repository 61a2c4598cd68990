"""First contact on overdue debts: the dry-run plan, one run of sending, and the funnel.

`run(session=..., now=...)` is the whole of it for a caller with a database session (the scheduler
passes its provider channels; without them they come from the environment): outcomes of
earlier contacts are brought up to date, then every debtor with a first contact due is handled
one at a time (decide under the debtor's row lock, commit, call the provider, record, commit).
`plan` decides the same without changing anything (`make outreach-plan`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutputChannel
from channels.config import ChannelSettings
from channels.outputs import build_outputs
from core.database import utcnow
from engine.conversations import service as conversations_service
from locales import Catalog
from locales.tone.overrides import ensure_attached
from money.outreach import config as outreach_config
from money.outreach import outcomes, planner, sender, tokens
from money.outreach.config import OutreachConfig
from money.reminders import config as reminders_config
from money.reminders.config import ReminderConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    outcomes: list[sender.Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts


async def plan(
    *,
    session: AsyncSession,
    now: datetime,
    config: OutreachConfig | None = None,
    contact: ReminderConfig | None = None,
    debtor_ids: list[int] | None = None,
) -> list[planner.Decision]:
    """One decision per open debt, nothing sent or written."""
    return await planner.plan(
        session=session,
        config=config or outreach_config.load(),
        contact=contact or reminders_config.load(),
        now=now,
        debtor_ids=debtor_ids,
    )


def write_report(decisions: list[planner.Decision], path: Path) -> None:
    """reports/outreach-plan.json: a list of {reference, action, channel, at, reason}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([d.report() for d in decisions], indent=2, ensure_ascii=False) + "\n", "utf-8")


async def run(
    *,
    session: AsyncSession,
    now: datetime | None = None,
    outputs: Mapping[str, OutputChannel] | None = None,
    base_url: str | None = None,
    settings: ChannelSettings | None = None,
    catalog: Catalog | None = None,
    config: OutreachConfig | None = None,
    contact: ReminderConfig | None = None,
    debtor_ids: list[int] | None = None,
) -> RunResult:
    """Bring the funnel up to date, then contact every debtor who has a first contact due now
    (at most `batch_size`; only `debtor_ids` when given), committing after each. Without a
    provider channel, call-list entries are still made and messages wait.

    `outputs` and `base_url` (the links' site) default to the ones `settings` describe (the
    process environment's without it); provider clients built here are closed here."""
    if outputs is None:
        chosen = settings or ChannelSettings()
        built = build_outputs(chosen, public_base_url=chosen.public_base_url)
        try:
            return await run(
                session=session, now=now, outputs=built, base_url=base_url or chosen.public_base_url,
                catalog=catalog, config=config, contact=contact, debtor_ids=debtor_ids,
            )  # fmt: skip
        finally:
            await _close(built)
    now = now or utcnow()
    base_url = base_url or (settings or ChannelSettings()).public_base_url
    config, contact = config or outreach_config.load(), contact or reminders_config.load()
    await outcomes.refresh(session=session, config=config, now=now)
    await session.commit()
    due = await planner.plan(session=session, config=config, contact=contact, now=now, debtor_ids=debtor_ids)
    await session.commit()
    # Every debtor with something to send or a case to stop or move on; the sender decides again.
    contacting = list(dict.fromkeys(d.debtor_id for d in due if d.action == planner.SEND or _moves(d)))
    if catalog is None and any(d.action == planner.SEND and d.channel in outputs for d in due):
        catalog = Catalog()
    results: list[sender.Outcome] = []
    for debtor_id in contacting[: config.batch_size]:
        decided = await sender.prepare(
            session=session, debtor_id=debtor_id, config=config, contact=contact, catalog=catalog,
            available=outputs, base_url=base_url, now=now,
        )  # fmt: skip
        await session.commit()
        if isinstance(decided, sender.Outcome):
            if decided.status != "none":
                results.append(decided)
            continue
        deliveries = await sender.deliver(claimed=decided, outputs=outputs)
        results.append(await sender.finish(session=session, claimed=decided, deliveries=deliveries, now=now))
        await session.commit()
    return RunResult(outcomes=results)


async def _close(outputs: Mapping[str, OutputChannel]) -> None:
    for output in outputs.values():
        close = getattr(output, "aclose", None)
        if close is not None:
            await close()


def _moves(decision: planner.Decision) -> bool:
    """A skip the sender records: a passed step, or a stop of a started case."""
    return decision.action == planner.SKIP and (decision.reason in sender.PASSED or decision.reason in sender.STOPPING)


async def run_scheduled(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_outputs: Callable[[], dict[str, OutputChannel]],
    base_url: str,
) -> RunResult:
    """The gateway's periodic job (app/scheduler.py), as the reminders' run_scheduled: the provider
    clients and the texts are built only when a message is due (closed after the run)."""
    async with sessionmaker() as session:
        decisions = await plan(session=session, now=utcnow())
    due = any(d.action == planner.SEND and d.channel != "call_list" for d in decisions)
    outputs = make_outputs() if due else {}
    try:
        catalog = None
        if due:
            catalog = Catalog()  # the texts as they are now, with admins' edits
            ensure_attached(catalog, sessionmaker)
            await catalog.refresh()
        async with sessionmaker() as session:
            result = await run(session=session, outputs=outputs, base_url=base_url, catalog=catalog)
    finally:
        await _close(outputs)
    log.info("outreach.run", extra={f"outreach_{k}": v for k, v in result.counts().items()})
    return result


@dataclass(frozen=True)
class Opened:
    """A first-contact link redeemed: the web chat conversation it opened and what to fill in."""

    conversation_id: str
    reference: str
    locale: str


async def open_link(
    *, session: AsyncSession, token: str, conversation_key: str, now: datetime | None = None
) -> Opened | None:
    """Redeem a one-time link for the web chat conversation at `conversation_key` (created here,
    in the debtor's language, not linked to them: verification still decides). None for a token
    that is unknown, used or expired: the chat then opens like any other. The caller commits."""
    debtor = await tokens.redeem(session=session, token=token, conversation_key=conversation_key, now=now or utcnow())
    if debtor is None:
        return None
    conversation = await conversations_service.get_or_create(
        session=session, channel="webchat", external_id=conversation_key
    )
    conversation.locale = debtor.locale
    return Opened(conversation_id=conversation.id, reference=debtor.reference, locale=debtor.locale)


async def funnel(
    *, session: AsyncSession, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """contacted → replied → verified → paid or agreed, per cadence step and per text variant."""
    return await outcomes.funnel(session=session, since=since, until=until)
