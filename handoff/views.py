"""The agent console's API: queue, conversation, take over, reply, notes, resolve, live updates.

Every route needs a logged-in staff member (401 otherwise); every POST also needs the session's
CSRF token in `X-CSRF-Token` (403). Transitions are compare-and-set in handoff.service, so a
second agent taking the same conversation gets 409.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from core.database import READ_ONLY
from core.deps import SessionDep
from core.errors import commit_or_refuse, refusals
from engine.conversations import service as conversations_service
from engine.conversations.deps import PipelineDep
from handoff import queries
from handoff import service as handoff_service
from handoff.models import State
from money.disputes import service as disputes_service
from money.disputes.models import DisputeStatus
from people.audit import reads
from people.audit.reads import AUDITED_READ
from people.auth import service as auth_service
from people.auth.deps import StaffDep, StaffWriteDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/agent/api", tags=["agent"])

ConversationId = Path(min_length=1, max_length=64)
DisputeId = Path(ge=1, le=2**31 - 1)
STREAM_POLL_SECONDS = 1.0
STREAM_KEEPALIVE_SECONDS = 15.0
PRESENCE_TOUCH_SECONDS = 20.0


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)

    @field_validator("text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value.strip()


class ResolveIn(BaseModel):
    outcome: str = Field(min_length=1, max_length=32)


class DisputeResolveIn(BaseModel):
    status: Literal["upheld", "rejected"]
    note: str | None = Field(default=None, max_length=500)


@router.get("/queue", dependencies=[AUDITED_READ])
async def get_queue(request: Request, staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    """Open cases, most urgent first (vulnerability, hardship), then the longest waiting."""
    found = await queries.queue(session=session)
    reads.note(request, conversations=[item["conversation_id"] for item in found["items"]])
    return found


@router.get("/conversations/{conversation_id}", responses=refusals(404), dependencies=[AUDITED_READ])
async def get_conversation(
    staff: StaffDep, session: SessionDep, conversation_id: str = ConversationId
) -> dict[str, Any]:
    found = await queries.conversation(session=session, conversation_id=conversation_id)
    if found is None:
        raise HTTPException(status_code=404, detail="not_found")
    return found


@router.post("/conversations/{conversation_id}/take", responses=refusals(404, 409))
async def take(
    staff: StaffWriteDep, session: SessionDep, pipeline: PipelineDep, conversation_id: str = ConversationId
) -> dict[str, Any]:
    """Take the conversation over: the debtor's messages now come to this agent, not to Rasa."""
    name = staff.display_name
    case = await commit_or_refuse(
        session, handoff_service.take(session=session, conversation_id=conversation_id, agent=staff)
    )
    handoff_id = case.id
    if not await pipeline.rasa.set_paused(sender=conversation_id, paused=True):
        log.warning("handoff.pause_not_mirrored", extra={"conversation_id": conversation_id})
    await pipeline.notify(conversation_id=conversation_id, key="utter_handoff_agent_joined", arguments={"agent": name})
    return {"handoff_id": handoff_id, "state": State.AGENT.value}


@router.post("/conversations/{conversation_id}/reply", responses=refusals(404, 409))
async def reply(
    body: TextIn,
    staff: StaffWriteDep,
    session: SessionDep,
    pipeline: PipelineDep,
    conversation_id: str = ConversationId,
) -> dict[str, Any]:
    """Write to the debtor through their own channel (only the agent who took it over)."""
    staff_id = staff.id
    await commit_or_refuse(
        session, handoff_service.ensure_owner(session=session, conversation_id=conversation_id, agent=staff)
    )
    sent = await pipeline.say_as_agent(conversation_id=conversation_id, agent_id=staff_id, text=body.text)
    if sent is None:
        raise HTTPException(status_code=409, detail="opted_out")
    return {"message_id": sent.message_id}


@router.post("/conversations/{conversation_id}/notes", status_code=201, responses=refusals(404))
async def add_note(
    body: TextIn, staff: StaffWriteDep, session: SessionDep, conversation_id: str = ConversationId
) -> dict[str, Any]:
    """An internal note: staff only, never sent to the debtor."""
    note = await commit_or_refuse(
        session,
        handoff_service.add_note(session=session, conversation_id=conversation_id, agent=staff, text=body.text),
    )
    return {"note_id": note.id}


@router.post("/conversations/{conversation_id}/release", responses=refusals(404, 409))
async def release(staff: StaffWriteDep, session: SessionDep, conversation_id: str = ConversationId) -> dict[str, Any]:
    """Back to the queue for another agent; the assistant stays paused meanwhile."""
    await commit_or_refuse(
        session, handoff_service.release(session=session, conversation_id=conversation_id, agent=staff)
    )
    return {"state": State.QUEUED.value}


@router.post("/conversations/{conversation_id}/resolve", responses=refusals(404, 409, 422))
async def resolve(
    body: ResolveIn,
    staff: StaffWriteDep,
    session: SessionDep,
    pipeline: PipelineDep,
    conversation_id: str = ConversationId,
) -> dict[str, Any]:
    """Close the case with an outcome and hand the conversation back to the assistant."""
    conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
    was_with_agent = conversation is not None and conversation.state == State.AGENT
    await commit_or_refuse(
        session,
        handoff_service.resolve(session=session, conversation_id=conversation_id, agent=staff, outcome=body.outcome),
    )
    notice = "utter_handoff_back_to_bot" if was_with_agent else None
    await pipeline.resume_rasa(conversation_id)
    if notice:
        await pipeline.notify(conversation_id=conversation_id, key=notice, arguments={})
    return {"state": State.BOT.value, "outcome": body.outcome}


@router.post("/disputes/{dispute_id}/resolve", responses=refusals(404, 409, 422))
async def resolve_dispute(
    body: DisputeResolveIn, staff: StaffWriteDep, session: SessionDep, dispute_id: int = DisputeId
) -> dict[str, Any]:
    """Rejected: collection on the debt resumes. Upheld: the debt stays out of collection."""
    dispute = await commit_or_refuse(
        session,
        disputes_service.resolve_dispute(
            session=session, dispute_id=dispute_id, status=DisputeStatus(body.status), agent_id=staff.id, note=body.note
        ),
    )
    return {"status": dispute.status.value}


@router.get("/events")
async def events(request: Request, staff: StaffDep, session: SessionDep, pipeline: PipelineDep) -> StreamingResponse:
    """Server-Sent Events: `update` whenever the queue or a conversation changed. Polling the
    database once a second sees changes made by every process (gateway, inbox worker, actions).
    An open stream also keeps the agent "online" for the no-agent-online notice."""

    staff_id = staff.id
    # The login check's transaction must not stay open for the life of the stream (on SQLite it
    # would hold the write lock): end it now, and use a short session per tick below.
    await session.commit()

    async def tick(touch: bool) -> tuple[int, ...]:
        async with pipeline.sessionmaker() as reading:
            await reading.connection(execution_options=READ_ONLY)  # no write lock on SQLite
            current = await queries.version(session=reading)
        if touch:
            async with pipeline.sessionmaker() as writing:
                await auth_service.seen(session=writing, user_id=staff_id)
                await writing.commit()
        return current

    async def stream() -> AsyncIterator[str]:
        last: tuple[int, ...] | None = None
        touched = sent = 0.0
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            touch = time.monotonic() - touched >= PRESENCE_TOUCH_SECONDS
            # Shielded: a browser going away must not cancel a transaction half-way.
            current = await asyncio.shield(tick(touch))
            if touch:
                touched = time.monotonic()
            if current != last:
                last, sent = current, time.monotonic()
                yield f"event: update\ndata: {json.dumps({'version': list(current)})}\n\n"
            elif time.monotonic() - sent >= STREAM_KEEPALIVE_SECONDS:
                sent = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
