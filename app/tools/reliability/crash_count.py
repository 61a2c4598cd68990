"""Counting the crash check: which inbound messages were answered, in which order.

How a reply is attributed to the message it answers. The worker drains a conversation's inbox
oldest first and writes the transcript as it goes: the inbound message's row (once per inbox
event, kept across retries), then the rows of its replies, before it takes the next event. So in
the transcript (`messages`, ordered by id) the outbound rows between inbound row k and inbound row
k+1 are the answer to message k ("replies are delayed" notices aside: they answer nothing). What
the debtor's phone received (the fake Twilio/Telegram API, in arrival order) is then matched to
those rows in order: a received text matches a row when it begins with the row's text (SMS and
WhatsApp append numbered options) or, for a long reply split into parts, when the row begins with
it; further parts of a split reply belong to the row before.

Per message sent (webhook acknowledged with 200):
- answered: its inbox event is done and at least one reply of its group reached the phone;
- lost: everything else (no inbox event, still pending, or no reply ever received).
Per conversation, in order: inbox events and inbound transcript rows in the order sent, and every
received reply matched in transcript order. A received reply that matches no row at or after the
last matched one is out of order (`disordered`), unless it is the reply just received again
(`repeated`: delivery is at least once, and a worker killed after the provider accepted a reply
but before its id was recorded sends that one reply again after the restart). Rows never received
(`stored_not_sent`) show a turn answered again after a crash (the first answer was stored, then
the worker died before sending it). A message answered more than once (`reprocessed`: its group
holds two batches of rows written over `BATCH_GAP_S` apart; one answer's rows are written in one
transaction) was processed twice: Rasa saw it twice, the person may have got both answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.tools.bench.conversations import Checker, Turn, plain
from app.tools.reliability.crash_load import Debtor, Mailbox, Received
from core.database import make_engine, make_sessionmaker
from engine.conversations.models import Conversation, Direction, Message
from engine.inbox.models import InboundEvent, InboxStatus

MAX_SAMPLES = 8
OFF_SCRIPT_SAMPLES = 3
BATCH_GAP_S = 2.0


@dataclass
class Tally:
    debtors: int = 0
    sent: int = 0
    not_acknowledged: int = 0  # the webhook itself failed: the provider would retry, nothing was promised
    answered: int = 0
    lost: int = 0
    never_stored: int = 0  # acknowledged without an inbox event (part of lost)
    pending: int = 0  # still in the inbox at the end (part of lost)
    disordered: int = 0  # replies received out of transcript order, or messages processed out of send order
    repeated: int = (
        0  # a reply received twice in a row: resent after a kill between the provider's accept and our record
    )
    stored_not_sent: int = 0
    reprocessed: int = 0  # messages answered more than once (at-least-once after a crash)
    off_script: int = 0  # answered, but not with what the script expects (e.g. Rasa forgot the dialogue)
    notices: int = 0
    debtors_all_answered: int = 0
    samples: list[str] = field(default_factory=list)
    off_script_samples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(text[:200])


def matches(received: str, stored: str) -> bool:
    received, stored = plain(received).strip(), plain(stored).strip()
    return received.startswith(stored) or (bool(received) and stored.startswith(received))


@dataclass
class Alignment:
    per_group: dict[int, list[Received]] = field(default_factory=dict)  # replies per answered message
    disordered: int = 0  # received, matching no row at or after the last matched one, nor a repeat
    repeated: int = 0  # received again right after it was received (a resend of the reply in flight)
    never_received: int = 0  # rows no phone got


def align(rows: Sequence[tuple[int | None, str]], received: Sequence[Received]) -> Alignment:
    """Received replies matched to transcript rows (group, text) in order."""
    result = Alignment()
    delivered = [False] * len(rows)
    position = 0
    for reply in received:
        found = next((j for j in range(position, len(rows)) if matches(reply.text, rows[j][1])), None)
        if found is None:
            before = rows[position - 1][1] if position > 0 else ""
            if plain(reply.text).strip() in plain(before) and not matches(reply.text, before):
                continue  # a further part of the reply before (split), not that reply again
            if position > 0 and matches(reply.text, before):
                result.repeated += 1  # the worker died between the provider's accept and our record
            else:
                result.disordered += 1
            continue
        delivered[found], position = True, found + 1
        group = rows[found][0]
        if group is not None:
            result.per_group.setdefault(group, []).append(reply)
    result.never_received = delivered.count(False)
    return result


def _turn_for(debtor: Debtor, turn: Turn) -> Turn:
    """On SMS and WhatsApp buttons are numbered options: their payloads cannot be checked."""
    if debtor.channel == "telegram":
        return turn
    return Turn(turn.text, tuple(m for m in turn.expect if not m.startswith("/")))


async def tally(debtors: list[Debtor], *, mailbox: Mailbox, database_url: str, notice: Callable[[str], bool]) -> Tally:
    result = Tally(debtors=len(debtors))
    checker = Checker()
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        for debtor in debtors:
            async with sessionmaker() as session:
                conversation = await session.scalar(
                    select(Conversation).where(
                        Conversation.channel == debtor.channel, Conversation.external_id == debtor.address
                    )
                )
                events: list[InboundEvent] = []
                messages: list[Message] = []
                if conversation is not None:
                    events = list(
                        await session.scalars(
                            select(InboundEvent)
                            .where(InboundEvent.conversation_id == conversation.id)
                            .order_by(InboundEvent.id)
                        )
                    )
                    messages = list(
                        await session.scalars(
                            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
                        )
                    )
            _count(debtor, events, messages, mailbox, notice, checker, result)
    finally:
        await engine.dispose()
    return result


def _count(
    debtor: Debtor,
    events: list[InboundEvent],
    messages: list[Message],
    mailbox: Mailbox,
    notice: Callable[[str], bool],
    checker: Checker,
    result: Tally,
) -> None:
    name = f"{debtor.channel} {debtor.script.name} #{debtor.index}"
    by_provider = {e.provider_message_id: e for e in events}
    sent = [(k, s) for k, s in enumerate(debtor.sent) if s.acknowledged]
    result.sent += len(sent)
    result.not_acknowledged += len(debtor.sent) - len(sent)
    turn_of_inbound = {by_provider[s.provider_id].message_id: k for k, s in sent if s.provider_id in by_provider}

    # Processed in the order sent: inbox ids and inbound transcript rows both increasing.
    stored = [by_provider[s.provider_id] for _, s in sent if s.provider_id in by_provider]
    inbound_rows = [e.message_id for e in stored if e.message_id is not None]
    if [e.id for e in stored] != sorted(e.id for e in stored) or inbound_rows != sorted(inbound_rows):
        result.disordered += 1
        result.note(f"{name}: messages processed out of the order sent")

    rows: list[tuple[int | None, str]] = []
    written: dict[int | None, list[datetime]] = {}
    group: int | None = None
    for message in messages:
        if message.direction == Direction.INBOUND:
            group = turn_of_inbound.get(message.id)
        elif notice(message.text):
            result.notices += 1
        else:
            rows.append((group, message.text))
            written.setdefault(group, []).append(message.created_at)
    for k, times in written.items():
        if any((b - a).total_seconds() > BATCH_GAP_S for a, b in itertools.pairwise(times)):
            result.reprocessed += 1
            result.note(f"{name} turn {(k or 0) + 1}: answered more than once")
    aligned = align(rows, mailbox.replies(debtor.recipient))
    per_group = aligned.per_group
    if aligned.disordered:
        result.disordered += aligned.disordered
        result.note(f"{name}: {aligned.disordered} repl(ies) received out of order")
    if aligned.repeated:
        result.repeated += aligned.repeated
        result.note(f"{name}: {aligned.repeated} repl(ies) received twice in a row")
    result.stored_not_sent += aligned.never_received

    answered = 0
    for k, one in sent:
        event = by_provider.get(one.provider_id)
        if event is None:
            result.never_stored += 1
            result.note(f"{name} turn {k + 1}: acknowledged but not in the inbox")
        elif event.status != InboxStatus.DONE:
            result.pending += 1
            result.note(f"{name} turn {k + 1}: still pending ({event.attempts} attempts, {event.last_error})")
        elif k not in per_group:
            result.note(f"{name} turn {k + 1} ({one.text!r}): processed, no reply received")
        else:
            answered += 1
            replies = [{"text": r.text, "buttons": [{"payload": p} for p in r.payloads]} for r in per_group[k]]
            turn = debtor.script.turns[k]
            if problem := checker.problem(_turn_for(debtor, turn), debtor.script.locale, replies):
                result.off_script += 1
                if len(result.off_script_samples) < OFF_SCRIPT_SAMPLES:
                    result.off_script_samples.append(f"{name} turn {k + 1} ({turn.text!r}): {problem}"[:160])
    result.answered += answered
    result.lost += len(sent) - answered
    result.debtors_all_answered += answered == len(sent) == len(debtor.script.turns)
