"""Examples and versions on both databases: edits on top of the YAML, every validation rule, one
training at a time, the repository model as the first version, activation bookkeeping."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.training import data, service, versions
from backoffice.training.models import ModelVersion, VersionStatus
from backoffice.training.service import TrainingError
from core.database import utcnow
from people.auth import service as auth_service
from people.auth.models import Role

NEW = "what's the total i still have to pay off"


async def admin_id(session: AsyncSession) -> int:
    user = await auth_service.create_user(
        session=session, username=f"ada-{uuid.uuid4().hex[:8]}@example.org", password="a long enough password",
        display_name="Ada", role=Role.ADMIN,
    )  # fmt: skip
    return user.id


async def texts(session: AsyncSession, intent: str, locale: str = "en") -> list[str]:
    return [e.text for e in (await service.effective(session=session, locale=locale))[intent]]


async def test_effective_examples_are_the_yaml_plus_the_changes(session: AsyncSession) -> None:
    who = await admin_id(session)
    yaml_balance = data.repository_examples("en")["check_balance"]
    assert await texts(session, "check_balance") == yaml_balance

    added = await service.add_example(
        session=session, locale="en", intent="check_balance", text=f"  {NEW} ", staff_id=who
    )
    assert added.text == NEW and added.change is not None and added.change.created_by == who
    first = yaml_balance[0]
    await service.edit_example(
        session=session, locale="en", intent="check_balance", text=first, new_text=first + " please", staff_id=who
    )
    await service.delete_example(
        session=session, locale="en", intent="check_balance", text=yaml_balance[1], staff_id=who
    )

    now = await texts(session, "check_balance")
    assert now == [first + " please", *yaml_balance[2:], NEW]
    assert await texts(session, "check_balance", "sv") == data.repository_examples("sv")["check_balance"]
    effective = await service.effective(session=session, locale="en")
    assert list(effective) == data.trainable_intents()
    assert effective["check_balance"][-1].change is not None and effective["check_balance"][2].change is None

    examples, upto = await service.training_data(session=session)
    assert examples["en"]["check_balance"] == now and upto is not None
    assert examples["de"]["greet"] == data.repository_examples("de")["greet"]


@pytest.mark.parametrize(
    ("locale", "intent", "text", "code", "status"),
    [
        ("xx", "greet", "hello you", "unknown_locale", 404),
        ("en", "no_such_intent", "hello you", "unknown_intent", 422),
        ("en", "request_callback", "call me back", "unknown_intent", 422),  # payload-only intent
        ("en", "greet", "   ", "empty_example", 422),
        ("en", "greet", "?!", "empty_example", 422),
        ("en", "greet", "x" * 301, "example_too_long", 422),
        ("en", "greet", "/greet", "invalid_example", 422),
        ("en", "pay_now", "pay [£5](money) now", "unknown_entity", 422),
        ("en", "greet", "Hello!", "duplicate_example", 409),  # "hello" is in the YAML
        ("en", "goodbye", "hello", "duplicate_example", 409),  # in another intent of the locale
        ("en", "greet", "Hello there", "heldout_example", 422),  # in bot/nlu/eval/heldout.tsv
        ("sv", "greet", "hello there", "heldout_example", 422),  # held out in any locale
    ],
)
async def test_invalid_examples_are_refused(
    session: AsyncSession, locale: str, intent: str, text: str, code: str, status: int
) -> None:
    with pytest.raises(TrainingError) as refused:
        await service.add_example(session=session, locale=locale, intent=intent, text=text, staff_id=None)
    assert (refused.value.code, refused.value.status) == (code, status)


async def test_entity_markup_and_bounds_are_accepted(session: AsyncSession) -> None:
    text = "could i pay [£7](amount) each   week " + "x" * 200
    added = await service.add_example(
        session=session, locale="en", intent="request_payment_plan", text=text, staff_id=None
    )
    assert added.text == "could i pay [£7](amount) each week " + "x" * 200


async def test_edit_and_delete_rules(session: AsyncSession) -> None:
    hello = "hello"
    for call, code in (
        (service.edit_example(session=session, locale="en", intent="greet", text="not there", new_text="hey you", staff_id=None), "example_not_found"),
        (service.edit_example(session=session, locale="en", intent="goodbye", text=hello, new_text="hey you", staff_id=None), "example_not_found"),
        (service.edit_example(session=session, locale="en", intent="greet", text=hello, new_text="hello", staff_id=None), "unchanged"),
        (service.edit_example(session=session, locale="en", intent="greet", text=hello, new_text="hi", staff_id=None), "duplicate_example"),
        (service.edit_example(session=session, locale="en", intent="greet", text=hello, new_text="hello again", staff_id=None), "heldout_example"),
        (service.delete_example(session=session, locale="en", intent="greet", text="nope", staff_id=None), "example_not_found"),
    ):  # fmt: skip
        with pytest.raises(TrainingError) as refused:
            await call
        assert refused.value.code == code
    # Same key, different markup: an edit may fix an annotation.
    await service.edit_example(
        session=session, locale="en", intent="greet", text=hello, new_text="Hello", staff_id=None
    )
    assert "Hello" in await texts(session, "greet")

    # An intent keeps at least two examples per locale.
    remaining = await texts(session, "bot_challenge", "de")
    for text in remaining[:-2]:
        await service.delete_example(session=session, locale="de", intent="bot_challenge", text=text, staff_id=None)
    with pytest.raises(TrainingError) as refused:
        await service.delete_example(
            session=session, locale="de", intent="bot_challenge", text=remaining[-1], staff_id=None
        )
    assert (refused.value.code, refused.value.status) == ("too_few_examples", 409)
    assert await texts(session, "bot_challenge", "de") == remaining[-2:]


async def test_deleted_example_can_be_added_again(session: AsyncSession) -> None:
    first = (await texts(session, "thank"))[0]
    await service.delete_example(session=session, locale="en", intent="thank", text=first, staff_id=None)
    await service.add_example(session=session, locale="en", intent="affirm", text=first, staff_id=None)
    assert first not in await texts(session, "thank") and first in await texts(session, "affirm")


async def test_one_training_at_a_time_and_the_repository_model_first(session: AsyncSession, tmp_path: Path) -> None:
    await session.execute(update(ModelVersion).values(running=None, status=VersionStatus.FAILED))
    initial = tmp_path / "debtor.tar.gz"
    initial.write_bytes(b"model")
    who = await admin_id(session)
    before = await versions.untrained_changes(session=session)
    version = await versions.queue_training(
        session=session, staff_id=who, initial_model=initial, models_dir=tmp_path / "m"
    )
    assert (version.status, version.running, version.progress, version.created_by) == (
        VersionStatus.QUEUED,
        True,
        0,
        who,
    )

    active = await versions.active_version(session=session)
    assert active is not None and active.from_repository and active.status == VersionStatus.ACTIVE
    copy = Path(active.model_path or "")
    assert copy.parent == tmp_path / "m" and await asyncio.to_thread(copy.read_bytes) == b"model"
    assert await versions.untrained_changes(session=session) == before  # the repository model has none

    with pytest.raises(TrainingError) as refused:
        await versions.queue_training(session=session, staff_id=who, initial_model=initial, models_dir=tmp_path / "m")
    assert (refused.value.code, refused.value.status) == ("training_running", 409)
    assert (await versions.running_version(session=session)) is version

    # A job silent for longer than STALE_AFTER died: the next request may train again.
    await versions.update_version(session=session, version_id=version.id, updated_at=utcnow() - timedelta(hours=1))
    again = await versions.queue_training(
        session=session, staff_id=who, initial_model=initial, models_dir=tmp_path / "m"
    )
    await session.refresh(version)
    assert (version.status, version.running, version.error) == (VersionStatus.FAILED, None, "interrupted")
    assert len([v for v in await versions.list_versions(session=session) if v.from_repository]) == 1

    # A restart fails every busy job.
    assert await versions.fail_interrupted(session=session) == 1
    await session.refresh(again)
    assert again.status == VersionStatus.FAILED and again.running is None


async def test_activation_bookkeeping(session: AsyncSession, tmp_path: Path) -> None:
    await session.execute(update(ModelVersion).values(running=None, status=VersionStatus.FAILED))
    model = tmp_path / "nlu-x.tar.gz"
    model.write_bytes(b"m")
    first = ModelVersion(name=versions.new_name(), status=VersionStatus.ACTIVE, model_path=str(model))
    second = ModelVersion(
        name=versions.new_name(), status=VersionStatus.READY, model_path=str(model), changes_upto=None
    )
    broken = ModelVersion(name=versions.new_name(), status=VersionStatus.FAILED)
    missing = ModelVersion(
        name=versions.new_name(), status=VersionStatus.READY, model_path=str(tmp_path / "gone.tar.gz")
    )
    session.add_all([first, second, broken, missing])
    await session.flush()
    assert versions.activatable(second) == model
    for version, code in ((broken, "version_not_ready"), (missing, "model_file_missing")):
        with pytest.raises(TrainingError) as refused:
            versions.activatable(version)
        assert (refused.value.code, refused.value.status) == (code, 409)

    who = await admin_id(session)
    await versions.mark_active(session=session, version_id=second.id, staff_id=who)
    await session.refresh(first)
    assert (first.status, second.status, second.activated_by) == (VersionStatus.READY, VersionStatus.ACTIVE, who)
    assert second.activated_at is not None
    await versions.mark_active(session=session, version_id=first.id, staff_id=who)  # re-activation
    await session.refresh(second)
    assert (first.status, second.status) == (VersionStatus.ACTIVE, VersionStatus.READY)
    with pytest.raises(TrainingError):
        await versions.get_version(session=session, version_id=10**9)


async def test_racing_retrain_requests_start_one_job(
    committed: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    start = asyncio.Event()

    async def request() -> int:
        async with committed() as session:
            await start.wait()
            try:
                version = await versions.queue_training(
                    session=session, staff_id=None, initial_model=tmp_path / "none", models_dir=tmp_path
                )
            except TrainingError as exc:
                return exc.status
            await session.commit()
            return 202 if version.id else 500

    tasks = [asyncio.create_task(request()) for _ in range(4)]
    await asyncio.sleep(0.05)
    start.set()
    assert sorted(await asyncio.gather(*tasks)) == [202, 409, 409, 409]
