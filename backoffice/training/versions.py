"""Model versions: queueing a retrain (one at a time), the repository's model as the first
version, jobs a restart interrupted, and which version is active."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.training.models import BUSY, ExampleChange, ModelVersion, VersionStatus
from backoffice.training.service import TrainingError
from core.database import utcnow

# A busy job that has not written progress for this long died with its process.
STALE_AFTER = timedelta(minutes=10)


def new_name() -> str:
    return f"nlu-{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


async def get_version(*, session: AsyncSession, version_id: int) -> ModelVersion:
    version = await session.get(ModelVersion, version_id)
    if version is None:
        raise TrainingError("version_not_found", 404)
    return version


async def list_versions(*, session: AsyncSession, limit: int = 50) -> list[ModelVersion]:
    return list(await session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)))


async def active_version(*, session: AsyncSession) -> ModelVersion | None:
    return await session.scalar(select(ModelVersion).where(ModelVersion.status == VersionStatus.ACTIVE))


async def running_version(*, session: AsyncSession) -> ModelVersion | None:
    return await session.scalar(select(ModelVersion).where(ModelVersion.running.is_(True)))


async def untrained_changes(*, session: AsyncSession) -> int:
    """Example changes the active model was not trained with."""
    active = await active_version(session=session)
    query = select(func.count()).select_from(ExampleChange)
    if active is not None and active.changes_upto is not None:
        query = query.where(ExampleChange.id > active.changes_upto)
    return int(await session.scalar(query) or 0)


def _copy(model: Path, target: Path) -> bool:
    if not model.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model, target)
    return True


async def register_repository_model(*, session: AsyncSession, model: Path, models_dir: Path) -> ModelVersion | None:
    """The model Rasa was started with (`make train`'s) becomes the first, active version, copied
    so that a later `make train` cannot change what this version's metrics describe."""
    if await active_version(session=session) is not None:
        return None
    name = new_name()
    target = models_dir / f"{name}.tar.gz"
    if not await asyncio.to_thread(_copy, model, target):
        return None
    version = ModelVersion(
        name=name,
        status=VersionStatus.ACTIVE,
        progress=100,
        from_repository=True,
        model_path=str(target.absolute()),
        activated_at=utcnow(),
    )
    session.add(version)
    await session.flush()
    return version


async def fail_interrupted(*, session: AsyncSession, idle_for: timedelta | None = None) -> int:
    """Mark busy jobs failed: all of them at startup (nothing can still run them), or those
    silent for `idle_for` (their process died without a restart of this one)."""
    query = update(ModelVersion).where(ModelVersion.status.in_(BUSY))
    if idle_for is not None:
        query = query.where(ModelVersion.updated_at < utcnow() - idle_for)
    now = utcnow()
    values: dict[str, Any] = {"error": "interrupted", "finished_at": now, "updated_at": now}
    result = await session.execute(
        query.values(status=VersionStatus.FAILED, running=None, phase=None, **values).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def check_trainer(rasa_bin: Path) -> None:
    """Training runs Rasa's own executable next to the gateway (see GatewaySettings.rasa_bin)."""
    if not rasa_bin.is_file():
        raise TrainingError("training_unavailable", 503)


async def queue_training(
    *, session: AsyncSession, staff_id: int | None, initial_model: Path, models_dir: Path
) -> ModelVersion:
    """A queued version; 409 while another training is queued, running or evaluating."""
    await fail_interrupted(session=session, idle_for=STALE_AFTER)
    if await running_version(session=session) is not None:
        raise TrainingError("training_running", 409)
    await register_repository_model(session=session, model=initial_model, models_dir=models_dir)
    version = ModelVersion(
        name=new_name(), status=VersionStatus.QUEUED, running=True, progress=0, phase="queued", created_by=staff_id
    )
    try:
        async with session.begin_nested():
            session.add(version)
            await session.flush()
    except IntegrityError as exc:  # a concurrent request won the unique "running" slot
        raise TrainingError("training_running", 409) from exc
    return version


async def update_version(*, session: AsyncSession, version_id: int, **values: Any) -> None:
    values.setdefault("updated_at", utcnow())
    await session.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(**values))


async def mark_active(*, session: AsyncSession, version_id: int, staff_id: int | None) -> ModelVersion:
    """Record that Rasa now runs this version (the previous active one becomes ready again)."""
    version = await get_version(session=session, version_id=version_id)
    await session.execute(
        update(ModelVersion)
        .where(ModelVersion.status == VersionStatus.ACTIVE, ModelVersion.id != version_id)
        .values(status=VersionStatus.READY)
        .execution_options(synchronize_session=False)
    )
    version.status = VersionStatus.ACTIVE
    version.activated_at = utcnow()
    version.activated_by = staff_id
    await session.flush()
    return version


def activatable(version: ModelVersion) -> Path:
    if version.status not in (VersionStatus.READY, VersionStatus.ACTIVE):
        raise TrainingError("version_not_ready", 409)
    path = Path(version.model_path or "")
    if not version.model_path or not path.is_file():
        raise TrainingError("model_file_missing", 409)
    return path
