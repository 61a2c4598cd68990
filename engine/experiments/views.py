"""Admin API for this feature: routes under /agent/api/admin/experiments (admins only).

Define an experiment on a catalog message (draft), start it, read conversion per variant and
outcome with confidence intervals, stop it or promote the winner. Writes happen in the request's
own session and are committed before answering (SQLite: that session holds the write lock).
Refusals are `{"detail": "<code>"}` with 404, 409 (lifecycle) or 422 (definition).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field, field_validator

from core.deps import SessionDep
from core.errors import commit_or_refuse, refusals
from engine.experiments import definitions, outcomes
from engine.experiments import service as experiments_service
from engine.experiments.definitions import Definition, ExperimentError, Variant
from engine.experiments.models import Experiment
from engine.experiments.stats import MIN_N, VariantStats
from locales.deps import CatalogDep
from people.auth.deps import AdminDep, AdminWriteDep

router = APIRouter(prefix="/agent/api/admin/experiments", tags=["admin-experiments"])
T = TypeVar("T")
ExperimentId = Path(ge=1, le=2**31 - 1)


class VariantIn(BaseModel):
    key: str = Field(min_length=1, max_length=32)
    text_key: str = Field(min_length=1, max_length=100)
    share: int = Field(ge=1, le=99)


class ExperimentIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    message_key: str = Field(min_length=1, max_length=100)
    variants: list[VariantIn] = Field(min_length=2, max_length=definitions.MAX_VARIANTS)
    outcome_days: int = Field(default=7, ge=1, le=definitions.MAX_OUTCOME_DAYS)

    @field_validator("name")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be empty")
        return value.strip()

    def definition(self) -> Definition:
        variants = [Variant(key=v.key, text_key=v.text_key, share=v.share) for v in self.variants]
        return Definition(self.name, self.message_key, variants, self.outcome_days)


class PromoteIn(BaseModel):
    variant: str = Field(min_length=1, max_length=32)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _out(experiment: Experiment, assigned: int | None = None) -> dict[str, Any]:
    out = {
        "id": experiment.id,
        "name": experiment.name,
        "message_key": experiment.message_key,
        "status": experiment.status.value,
        "variants": experiment.variants,
        "outcome_days": experiment.outcome_days,
        "created_at": _time(experiment.created_at),
        "started_at": _time(experiment.started_at),
        "stopped_at": _time(experiment.stopped_at),
        "promoted_at": _time(experiment.promoted_at),
        "winner": experiment.winner,
    }
    if assigned is not None:
        out["assigned"] = assigned
    return out


def _stats(stats: VariantStats) -> dict[str, Any]:
    comparison = stats.comparison
    return {
        "variant": stats.key,
        "n": stats.n,
        "conversions": stats.conversions,
        "rate": stats.rate,
        "ci_low": stats.interval.low if stats.interval else None,
        "ci_high": stats.interval.high if stats.interval else None,
        "enough_data": stats.enough_data,
        "vs_champion": None
        if comparison is None
        else {
            "difference": comparison.difference,
            "ci_low": comparison.interval.low,
            "ci_high": comparison.interval.high,
            "p_value": comparison.p_value,
            "significant": comparison.significant,
        },
    }


async def _read(work: Awaitable[T]) -> T:
    try:
        return await work
    except ExperimentError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc


@router.get("/options")
async def options(admin: AdminDep, catalog: CatalogDep) -> dict[str, Any]:
    """What the form can offer: texts present in every locale, and per message its framing
    variants (keys named `<message>_<framing>`, e.g. utter_reminder_due_soon_loss_aversion)."""
    keys = sorted(definitions.complete_keys(catalog))
    families = [
        {
            "key": key,
            "variants": [
                {"key": candidate, "preview": catalog.text(candidate, "en")}
                for candidate in keys
                if candidate == key or candidate.startswith(key + "_")
            ],
        }
        for key in keys
    ]
    # Messages with the most framings first (the reminders' three), then by key.
    framed = sorted((f for f in families if len(f["variants"]) > 1), key=lambda f: (-len(f["variants"]), f["key"]))
    return {
        "messages": framed,
        "texts": keys,
        "min_n": MIN_N,
        "max_variants": definitions.MAX_VARIANTS,
        "max_outcome_days": definitions.MAX_OUTCOME_DAYS,
        "metrics": [m.value for m in outcomes.Metric],
    }


@router.get("")
async def list_experiments(admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    rows = await experiments_service.list_all(session=session)
    return {"items": [_out(experiment, assigned) for experiment, assigned in rows]}


@router.post("", status_code=201, responses=refusals(409, 422))
async def create(body: ExperimentIn, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep) -> dict[str, Any]:
    work = experiments_service.create(session=session, catalog=catalog, definition=body.definition())
    return _out(await commit_or_refuse(session, work), 0)


@router.get("/{experiment_id}", responses=refusals(404))
async def read(admin: AdminDep, session: SessionDep, experiment_id: int = ExperimentId) -> dict[str, Any]:
    return _out(await _read(experiments_service.get(session=session, experiment_id=experiment_id)))


@router.put("/{experiment_id}", responses=refusals(404, 409, 422))
async def update(
    body: ExperimentIn,
    admin: AdminWriteDep,
    session: SessionDep,
    catalog: CatalogDep,
    experiment_id: int = ExperimentId,
) -> dict[str, Any]:
    work = experiments_service.update(
        session=session, catalog=catalog, experiment_id=experiment_id, definition=body.definition()
    )
    return _out(await commit_or_refuse(session, work))


@router.delete("/{experiment_id}", status_code=204, responses=refusals(404, 409))
async def delete(admin: AdminWriteDep, session: SessionDep, experiment_id: int = ExperimentId) -> None:
    await commit_or_refuse(session, experiments_service.delete(session=session, experiment_id=experiment_id))


@router.post("/{experiment_id}/start", responses=refusals(404, 409, 422))
async def start(
    admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep, experiment_id: int = ExperimentId
) -> dict[str, Any]:
    work = experiments_service.start(session=session, catalog=catalog, experiment_id=experiment_id)
    return _out(await commit_or_refuse(session, work))


@router.post("/{experiment_id}/stop", responses=refusals(404, 409))
async def stop(admin: AdminWriteDep, session: SessionDep, experiment_id: int = ExperimentId) -> dict[str, Any]:
    return _out(await commit_or_refuse(session, experiments_service.stop(session=session, experiment_id=experiment_id)))


@router.post("/{experiment_id}/promote", responses=refusals(404, 409, 422))
async def promote(
    body: PromoteIn, admin: AdminWriteDep, session: SessionDep, experiment_id: int = ExperimentId
) -> dict[str, Any]:
    work = experiments_service.promote(session=session, experiment_id=experiment_id, variant=body.variant)
    return _out(await commit_or_refuse(session, work))


@router.get("/{experiment_id}/results", responses=refusals(404))
async def results(admin: AdminDep, session: SessionDep, experiment_id: int = ExperimentId) -> dict[str, Any]:
    experiment = await _read(experiments_service.get(session=session, experiment_id=experiment_id))
    found = await outcomes.results(session=session, experiment=experiment)
    return {
        "experiment": _out(experiment, found.assigned),
        "assigned": found.assigned,
        "window_open": found.window_open,
        "min_n": MIN_N,
        "metrics": [
            {"metric": metric.value, "variants": [_stats(s) for s in stats]} for metric, stats in found.metrics.items()
        ],
    }
