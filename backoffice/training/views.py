"""Admin API for this feature: routes under /agent/api/admin/training (admins only).

Examples per locale (list / add / edit / delete), retraining in the background (202, then poll
the version), the new model's held-out scores next to the active one's, and activation (Rasa
hot-swaps the model). Errors are `{"detail": "<code>"}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.training import activation, data, jobs, service, versions
from backoffice.training.compare import compare, summary
from backoffice.training.models import ModelVersion, VersionStatus
from core.deps import SessionDep, SettingsDep
from core.errors import commit_or_refuse, refusals
from engine.conversations.deps import RasaDep
from locales import SUPPORTED_LOCALES
from people.auth.deps import AdminDep, AdminWriteDep
from people.auth.models import StaffUser

log = logging.getLogger(__name__)
router = APIRouter(prefix="/agent/api/admin/training", tags=["admin-training"])
VersionId = Path(ge=1, le=2**31 - 1)


class ExampleRef(BaseModel):
    locale: str = Field(min_length=1, max_length=8)
    intent: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)  # longer than allowed: the service says why


class ExampleEdit(ExampleRef):
    new_text: str = Field(min_length=1, max_length=2000)


async def _names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    users = await session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))
    return {u.id: {"id": u.id, "display_name": u.display_name} for u in users}


def _example(example: service.Example, names: dict[int, dict[str, Any]]) -> dict[str, Any]:
    change = example.change
    return {
        "intent": example.intent,
        "text": example.text,
        "source": "admin" if change else "repository",
        "change": change.op.value if change else None,  # "add" | "edit"
        "changed_by": names.get(change.created_by) if change and change.created_by else None,
        "changed_at": change.created_at.isoformat() if change else None,
    }


def _version(version: ModelVersion, names: dict[int, dict[str, Any]], detail: bool = False) -> dict[str, Any]:
    def at(value: Any) -> str | None:
        return value.isoformat() if value else None

    body: dict[str, Any] = {
        "id": version.id,
        "name": version.name,
        "status": version.status.value,
        "progress": version.progress,
        "phase": version.phase,
        "from_repository": version.from_repository,
        "created_by": names.get(version.created_by) if version.created_by else None,
        "activated_by": names.get(version.activated_by) if version.activated_by else None,
        "created_at": at(version.created_at),
        "started_at": at(version.started_at),
        "finished_at": at(version.finished_at),
        "activated_at": at(version.activated_at),
        "train_seconds": version.train_seconds,
        "examples": version.examples,
        "changes_upto": version.changes_upto,
        "error": version.error,
        "evaluated": version.metrics is not None,
        "summary": summary(version.metrics),
    }
    if detail:
        body.update(metrics=version.metrics, log_tail=version.log_tail, model_file=version.model_path)
    return body


@router.get("/examples", responses=refusals(404, 422))
async def list_examples(
    admin: AdminDep, session: SessionDep, locale: str = Query(default="en", max_length=8)
) -> dict[str, Any]:
    """The effective examples of one locale (the YAML + the admins' changes), by intent."""
    try:
        examples = await service.effective(session=session, locale=locale)
    except service.TrainingError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    changes = [e.change.created_by for ex in examples.values() for e in ex if e.change]
    names = await _names(session, changes)
    return {
        "locale": locale,
        "locales": list(SUPPORTED_LOCALES),
        "untrained_changes": await versions.untrained_changes(session=session),
        "intents": [
            {"name": intent, "count": len(ex), "examples": [_example(e, names) for e in ex]}
            for intent, ex in examples.items()
        ],
    }


@router.post("/examples", status_code=201, responses=refusals(404, 409, 422))
async def add_example(body: ExampleRef, admin: AdminWriteDep, session: SessionDep) -> dict[str, Any]:
    added = await commit_or_refuse(
        session,
        service.add_example(session=session, locale=body.locale, intent=body.intent, text=body.text, staff_id=admin.id),
    )
    return _example(added, await _names(session, [admin.id]))


@router.put("/examples", responses=refusals(404, 409, 422))
async def edit_example(body: ExampleEdit, admin: AdminWriteDep, session: SessionDep) -> dict[str, Any]:
    edited = await commit_or_refuse(
        session,
        service.edit_example(
            session=session, locale=body.locale, intent=body.intent, text=body.text, new_text=body.new_text,
            staff_id=admin.id,
        ),
    )  # fmt: skip
    return _example(edited, await _names(session, [admin.id]))


@router.delete("/examples", responses=refusals(404, 409, 422))
async def delete_example(body: ExampleRef, admin: AdminWriteDep, session: SessionDep) -> dict[str, Any]:
    await commit_or_refuse(
        session,
        service.delete_example(
            session=session, locale=body.locale, intent=body.intent, text=body.text, staff_id=admin.id
        ),
    )
    return {"deleted": True, "intent": body.intent, "text": body.text}


@router.get("/versions")
async def list_versions(admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    rows = await versions.list_versions(session=session)
    names = await _names(session, [i for v in rows for i in (v.created_by, v.activated_by)])
    active = next((v.id for v in rows if v.status == VersionStatus.ACTIVE), None)
    running = next((v.id for v in rows if v.running), None)
    return {
        "versions": [_version(v, names) for v in rows],
        "active_id": active,
        "running_id": running,
        "untrained_changes": await versions.untrained_changes(session=session),
    }


@router.post("/versions", status_code=202, responses=refusals(409, 503))
async def retrain(request: Request, admin: AdminWriteDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Queue a retrain of the effective examples; 409 while another one is running."""
    try:
        versions.check_trainer(settings.rasa_bin)
    except service.TrainingError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    version = await commit_or_refuse(
        session,
        versions.queue_training(
            session=session, staff_id=admin.id, initial_model=settings.training_initial_model,
            models_dir=settings.training_models_dir,
        ),
    )  # fmt: skip
    jobs.start(version.id, sessionmaker=request.app.state.sessionmaker, settings=settings)
    return _version(version, await _names(session, [admin.id]))


@router.get("/versions/{version_id}", responses=refusals(404))
async def get_version(admin: AdminDep, session: SessionDep, version_id: int = VersionId) -> dict[str, Any]:
    version = await commit_or_refuse(session, versions.get_version(session=session, version_id=version_id))
    return _version(version, await _names(session, [version.created_by, version.activated_by]), detail=True)


@router.get("/versions/{version_id}/comparison", responses=refusals(404, 409))
async def comparison(admin: AdminDep, session: SessionDep, version_id: int = VersionId) -> dict[str, Any]:
    """This version's held-out scores next to the active model's, per locale and intent."""
    version = await commit_or_refuse(session, versions.get_version(session=session, version_id=version_id))
    if version.metrics is None:
        raise HTTPException(status_code=409, detail="not_evaluated")
    active = await versions.active_version(session=session)
    current = active.metrics if active is not None else None
    return {
        "version_id": version.id,
        "active_id": active.id if active else None,
        "current_evaluated": current is not None,
        "locales": compare(version.metrics, current),
    }


@router.post("/versions/{version_id}/activate", responses=refusals(404, 409, 502, 503))
async def activate(
    admin: AdminWriteDep, session: SessionDep, settings: SettingsDep, rasa: RasaDep, version_id: int = VersionId
) -> dict[str, Any]:
    """Rasa loads this version (hot swap); then it is recorded as active and persisted for restarts.
    An earlier version is re-activated the same way."""
    await session.commit()  # release SQLite's write lock before waiting for another activation
    async with activation.lock():
        version = await commit_or_refuse(session, versions.get_version(session=session, version_id=version_id))
        active = await commit_or_refuse(session, versions.active_version(session=session))
        try:
            model = versions.activatable(version)
            await activation.load_everywhere(
                http=rasa.http,
                rasa_urls=rasa.instances,
                model=model,
                fallback=active.model_path if active else None,
                token=rasa.auth_token,
            )
        except service.TrainingError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.code) from exc
        version = await commit_or_refuse(
            session, versions.mark_active(session=session, version_id=version_id, staff_id=admin.id)
        )
        try:
            await asyncio.to_thread(data.point_active, settings.training_models_dir, model)
        except OSError:
            log.exception("could not persist the active model %s for restarts", model)
    return _version(version, await _names(session, [version.created_by, version.activated_by]))
