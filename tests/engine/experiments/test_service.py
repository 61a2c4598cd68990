"""Definitions (catalog keys, shares, variants) and the lifecycle: draft, running, stopped,
promoted; at most one running experiment per message."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.experiments import definitions, service
from engine.experiments.definitions import ExperimentError, Variant
from engine.experiments.models import Experiment, Status
from locales import Catalog
from tests.engine.experiments.conftest import MESSAGE, definition


def test_a_valid_definition_passes(catalog: Catalog) -> None:
    definitions.validate(definition(), catalog)
    definitions.validate(definition((50, 50)), catalog)
    assert definitions.complete_keys(catalog) >= {MESSAGE, "utter_other_reminder"}
    assert "utter_english_only" not in definitions.complete_keys(catalog)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"shares": (34, 33, 32)}, "shares_must_sum_to_100"),
        ({"shares": (50, 51)}, "shares_must_sum_to_100"),
        ({"shares": (100,)}, "two_to_six_variants"),
        ({"message": "utter_no_such_text"}, "unknown_message_key"),
        ({"message": "utter_english_only"}, "unknown_message_key"),  # not in every locale
        ({"outcome_days": 0}, "outcome_days_out_of_range"),
        ({"outcome_days": 91}, "outcome_days_out_of_range"),
        ({"name": "   "}, "name_required"),
    ],
)
def test_invalid_definitions_are_refused(catalog: Catalog, change: dict[str, object], code: str) -> None:
    with pytest.raises(ExperimentError) as refused:
        definitions.validate(definition(**change), catalog)  # type: ignore[arg-type]
    assert refused.value.code == code and refused.value.status == 422


@pytest.mark.parametrize(
    ("variants", "code"),
    [
        ([("a", MESSAGE, 50), ("a", f"{MESSAGE}_social_proof", 50)], "duplicate_variant_key"),
        ([("Neutral", MESSAGE, 50), ("b", f"{MESSAGE}_social_proof", 50)], "bad_variant_key"),
        ([("a", MESSAGE, 100), ("b", f"{MESSAGE}_social_proof", 0)], "share_must_be_positive"),
        ([("a", MESSAGE, 50), ("b", "utter_english_only", 50)], "unknown_text_key"),
        ([("a", MESSAGE, 50), ("b", "utter_needs_iban", 50)], "variant_needs_other_arguments"),
        ([(f"v{i}", MESSAGE, 100 // 7 + (i < 100 % 7)) for i in range(7)], "two_to_six_variants"),
    ],
)
def test_invalid_variants_are_refused(catalog: Catalog, variants: list[tuple[str, str, int]], code: str) -> None:
    bad = replace(definition(), variants=[Variant(key=k, text_key=t, share=s) for k, t, s in variants])
    with pytest.raises(ExperimentError) as refused:
        definitions.validate(bad, catalog)
    assert refused.value.code == code


def test_placeholders_are_read_from_every_locale_and_tone(catalog: Catalog) -> None:
    assert definitions.placeholders(catalog, MESSAGE) == {"amount_money", "due_date"}
    assert definitions.placeholders(catalog, f"{MESSAGE}_social_proof") == {"due_date"}
    # A variant may use fewer arguments than the message gives it (same for an A/A test).
    definitions.validate(
        replace(definition(), variants=[Variant("a", MESSAGE, 50), Variant("b", MESSAGE, 50)]),
        catalog,
    )


async def test_lifecycle(session: AsyncSession, catalog: Catalog) -> None:
    experiment = await service.create(session=session, catalog=catalog, definition=definition())
    assert experiment.status is Status.DRAFT and experiment.started_at is None
    assert [v["key"] for v in experiment.variants] == ["neutral", "loss_aversion", "social_proof"]

    edited = await service.update(
        session=session, catalog=catalog, experiment_id=experiment.id, definition=definition((50, 50), outcome_days=14)
    )
    assert [v["share"] for v in edited.variants] == [50, 50] and edited.outcome_days == 14
    with pytest.raises(ExperimentError) as refused:
        await service.promote(session=session, experiment_id=experiment.id, variant="neutral")
    assert (refused.value.code, refused.value.status) == ("not_promotable", 409)
    with pytest.raises(ExperimentError):
        await service.stop(session=session, experiment_id=experiment.id)

    started = await service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    assert started.status is Status.RUNNING and started.started_at is not None
    for attempt in (
        service.update(session=session, catalog=catalog, experiment_id=experiment.id, definition=definition()),
        service.delete(session=session, experiment_id=experiment.id),
        service.start(session=session, catalog=catalog, experiment_id=experiment.id),
    ):
        with pytest.raises(ExperimentError) as refused:
            await attempt
        assert (refused.value.code, refused.value.status) == ("not_draft", 409)
    with pytest.raises(ExperimentError) as refused:
        await service.promote(session=session, experiment_id=experiment.id, variant="social_proof")  # not in it now
    assert refused.value.code == "unknown_variant"

    stopped = await service.stop(session=session, experiment_id=experiment.id)
    assert stopped.status is Status.STOPPED and stopped.stopped_at is not None
    promoted = await service.promote(session=session, experiment_id=experiment.id, variant="loss_aversion")
    assert (promoted.status, promoted.winner, promoted.stopped_at) == (
        Status.PROMOTED,
        "loss_aversion",
        stopped.stopped_at,
    )
    assert promoted.promoted_at is not None
    with pytest.raises(ExperimentError):
        await service.promote(session=session, experiment_id=experiment.id, variant="neutral")  # already promoted

    draft = await service.create(session=session, catalog=catalog, definition=definition(name="Thrown away"))
    await service.delete(session=session, experiment_id=draft.id)
    with pytest.raises(ExperimentError) as refused:
        await service.get(session=session, experiment_id=draft.id)
    assert refused.value.status == 404
    listed = await service.list_all(session=session)
    assert (experiment.id, 0) in [(e.id, n) for e, n in listed]


async def test_start_checks_the_texts_again(session: AsyncSession, catalog: Catalog, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """A text removed from the catalog after the draft was saved cannot be sent: no start."""
    from tests.engine.experiments.conftest import TEXTS, write_catalog

    experiment = await service.create(session=session, catalog=catalog, definition=definition())
    shrunk = write_catalog(
        tmp_path_factory.mktemp("shrunk"), {k: v for k, v in TEXTS.items() if not k.endswith("_social_proof")}
    )
    with pytest.raises(ExperimentError) as refused:
        await service.start(session=session, catalog=shrunk, experiment_id=experiment.id)
    assert refused.value.code == "unknown_text_key"


async def test_one_running_experiment_per_message(session: AsyncSession, catalog: Catalog) -> None:
    first = await service.create(session=session, catalog=catalog, definition=definition())
    second = await service.create(session=session, catalog=catalog, definition=definition((50, 50), name="Second"))
    other = await service.create(
        session=session,
        catalog=catalog,
        definition=replace(
            definition(),
            message_key="utter_other_reminder",
            variants=[Variant("a", "utter_other_reminder", 50), Variant("b", "utter_other_reminder", 50)],
        ),
    )
    await service.start(session=session, catalog=catalog, experiment_id=first.id)
    with pytest.raises(ExperimentError) as refused:
        await service.start(session=session, catalog=catalog, experiment_id=second.id)
    assert (refused.value.code, refused.value.status) == ("already_running", 409)
    await service.start(session=session, catalog=catalog, experiment_id=other.id)  # another message: fine

    # The database itself refuses a second running row (whatever code path writes it).
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                Experiment(
                    name="raw", message_key=MESSAGE, status=Status.RUNNING, variants=first.variants, outcome_days=7
                )
            )
            await session.flush()
    # Stopped ones don't count.
    await service.stop(session=session, experiment_id=first.id)
    assert (await service.start(session=session, catalog=catalog, experiment_id=second.id)).status is Status.RUNNING


async def test_concurrent_starts_on_one_message_let_one_win(
    committed: async_sessionmaker[AsyncSession], catalog: Catalog
) -> None:
    async with committed() as session:
        ids = [
            (await service.create(session=session, catalog=catalog, definition=definition(name=f"E{i}"))).id
            for i in range(2)
        ]
        await session.commit()

    async def start(experiment_id: int) -> str:
        async with committed() as session:
            try:
                await service.start(session=session, catalog=catalog, experiment_id=experiment_id)
            except ExperimentError as exc:
                return exc.code
            await asyncio.sleep(0.2)  # hold the transaction open: the other start must wait or lose
            await session.commit()
            return "started"

    outcomes = await asyncio.gather(*(start(i) for i in ids))
    assert sorted(outcomes) == ["already_running", "started"]
