"""Define, run and promote champion/challenger experiments; assign debtors to variants.

Lifecycle: draft (editable) → running (debtors are assigned) → stopped, or promoted (the
winner's text goes to everybody). A promoted experiment can still be stopped (the message's own
text is sent again) and a stopped one promoted later. At most one experiment runs per message
(also enforced by a partial unique index).

`assign` is what a sender (reminders) calls before sending `message_key` to a debtor:
- a running experiment: the debtor's variant, chosen once from a stable hash of (experiment id,
  debtor id) over the traffic shares and stored (the same answer on every call, in every process,
  and under concurrent calls);
- otherwise the latest promoted experiment on that key: its winner, for everybody, and nothing is
  stored (the results stay those of the experiment itself);
- otherwise None: send `message_key` itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.experiments.definitions import Definition, ExperimentError, Variant, validate
from engine.experiments.models import Experiment, ExperimentAssignment, Status
from locales import Catalog


@dataclass(frozen=True)
class Assignment:
    experiment_id: int
    variant: str
    text_key: str  # the catalog key to send instead of the message key
    promoted: bool = False  # the winner of a promoted experiment (no assignment stored)


def variants_of(experiment: Experiment) -> list[Variant]:
    return [Variant(key=str(v["key"]), text_key=str(v["text_key"]), share=int(v["share"])) for v in experiment.variants]


def _store(experiment: Experiment, definition: Definition) -> None:
    experiment.name = definition.name.strip()
    experiment.message_key = definition.message_key
    experiment.variants = [{"key": v.key, "text_key": v.text_key, "share": v.share} for v in definition.variants]
    experiment.outcome_days = definition.outcome_days


async def create(*, session: AsyncSession, catalog: Catalog, definition: Definition) -> Experiment:
    validate(definition, catalog)
    experiment = Experiment(status=Status.DRAFT)
    _store(experiment, definition)
    session.add(experiment)
    await session.flush()
    return experiment


async def get(*, session: AsyncSession, experiment_id: int, lock: bool = False) -> Experiment:
    query = select(Experiment).where(Experiment.id == experiment_id)
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise ExperimentError("not_found", 404)
    return found


async def list_all(*, session: AsyncSession) -> list[tuple[Experiment, int]]:
    """Every experiment, newest first, with how many debtors were assigned."""
    counts = (
        select(ExperimentAssignment.experiment_id, func.count().label("n"))
        .group_by(ExperimentAssignment.experiment_id)
        .subquery()
    )
    rows = await session.execute(
        select(Experiment, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.experiment_id == Experiment.id)
        .order_by(Experiment.id.desc())
    )
    return [(experiment, int(n)) for experiment, n in rows.all()]


async def update(*, session: AsyncSession, catalog: Catalog, experiment_id: int, definition: Definition) -> Experiment:
    experiment = await get(session=session, experiment_id=experiment_id, lock=True)
    if experiment.status is not Status.DRAFT:
        raise ExperimentError("not_draft", 409)
    validate(definition, catalog)
    _store(experiment, definition)
    await session.flush()
    return experiment


async def delete(*, session: AsyncSession, experiment_id: int) -> None:
    experiment = await get(session=session, experiment_id=experiment_id, lock=True)
    if experiment.status is not Status.DRAFT:
        raise ExperimentError("not_draft", 409)
    await session.delete(experiment)
    await session.flush()


# -- lifecycle --------------------------------------------------------------------------------


async def start(*, session: AsyncSession, catalog: Catalog, experiment_id: int) -> Experiment:
    experiment = await get(session=session, experiment_id=experiment_id, lock=True)
    if experiment.status is not Status.DRAFT:
        raise ExperimentError("not_draft", 409)
    # Texts may have changed since the draft was saved.
    definition = Definition(experiment.name, experiment.message_key, variants_of(experiment), experiment.outcome_days)
    validate(definition, catalog)
    running = await session.scalar(
        select(Experiment.id).where(
            Experiment.message_key == experiment.message_key, Experiment.status == Status.RUNNING
        )
    )
    if running is not None:
        raise ExperimentError("already_running", 409)
    experiment.status, experiment.started_at = Status.RUNNING, utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent start on the same message won the unique index
        raise ExperimentError("already_running", 409) from exc
    return experiment


async def stop(*, session: AsyncSession, experiment_id: int) -> Experiment:
    experiment = await get(session=session, experiment_id=experiment_id, lock=True)
    if experiment.status not in (Status.RUNNING, Status.PROMOTED):
        raise ExperimentError("not_running", 409)
    experiment.status = Status.STOPPED
    experiment.stopped_at = experiment.stopped_at or utcnow()
    await session.flush()
    return experiment


async def promote(*, session: AsyncSession, experiment_id: int, variant: str) -> Experiment:
    """The winner's text goes to everybody from now on (replacing any earlier promoted winner on
    the same message, which is stopped). Nobody new is assigned; results stay as they were."""
    experiment = await get(session=session, experiment_id=experiment_id, lock=True)
    if experiment.status not in (Status.RUNNING, Status.STOPPED):
        raise ExperimentError("not_promotable", 409)
    if variant not in {v.key for v in variants_of(experiment)}:
        raise ExperimentError("unknown_variant")
    earlier = await session.scalars(
        select(Experiment)
        .where(Experiment.message_key == experiment.message_key, Experiment.status == Status.PROMOTED)
        .with_for_update()
    )
    now = utcnow()
    for other in earlier.all():
        other.status = Status.STOPPED
    experiment.status, experiment.winner, experiment.promoted_at = Status.PROMOTED, variant, now
    experiment.stopped_at = experiment.stopped_at or now
    await session.flush()
    return experiment


# -- assignment -------------------------------------------------------------------------------


def bucket(experiment_id: int, debtor_id: int) -> int:
    """0..99, uniform and stable: the same in every process and on every machine (no hash())."""
    digest = hashlib.sha256(f"{experiment_id}:{debtor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def choose_variant(experiment_id: int, debtor_id: int, variants: Sequence[Variant]) -> Variant:
    """The variant whose slice of the cumulative shares holds the debtor's bucket."""
    point, upper = bucket(experiment_id, debtor_id), 0
    for variant in variants:
        upper += variant.share
        if point < upper:
            return variant
    raise ValueError("shares do not sum to 100")


async def assign(*, session: AsyncSession, message_key: str, debtor_id: int) -> Assignment | None:
    """The text to send this debtor for `message_key` (see the module docstring); flushes, the
    caller commits."""
    running = await session.scalar(
        select(Experiment).where(Experiment.message_key == message_key, Experiment.status == Status.RUNNING)
    )
    if running is None:
        return await _promoted(session, message_key)
    variants = {v.key: v for v in variants_of(running)}
    stored = await _stored_variant(session, running.id, debtor_id)
    if stored is None:
        chosen = choose_variant(running.id, debtor_id, list(variants.values()))
        try:
            async with session.begin_nested():
                session.add(ExperimentAssignment(experiment_id=running.id, debtor_id=debtor_id, variant=chosen.key))
        except IntegrityError:
            # A concurrent call stored it first (same hash, so the same variant); or no such debtor.
            stored = await _stored_variant(session, running.id, debtor_id)
            if stored is None:
                raise
        else:
            stored = chosen.key
    return Assignment(experiment_id=running.id, variant=stored, text_key=variants[stored].text_key)


async def _stored_variant(session: AsyncSession, experiment_id: int, debtor_id: int) -> str | None:
    return await session.scalar(
        select(ExperimentAssignment.variant).where(
            ExperimentAssignment.experiment_id == experiment_id, ExperimentAssignment.debtor_id == debtor_id
        )
    )


async def _promoted(session: AsyncSession, message_key: str) -> Assignment | None:
    promoted = await session.scalar(
        select(Experiment)
        .where(Experiment.message_key == message_key, Experiment.status == Status.PROMOTED)
        .order_by(Experiment.promoted_at.desc(), Experiment.id.desc())
        .limit(1)
    )
    if promoted is None or promoted.winner is None:
        return None
    winner = next((v for v in variants_of(promoted) if v.key == promoted.winner), None)
    if winner is None:
        return None
    return Assignment(experiment_id=promoted.id, variant=winner.key, text_key=winner.text_key, promoted=True)
