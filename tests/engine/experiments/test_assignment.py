"""Issue 6 point 7: assignment is deterministic (same debtor, same variant: across calls, processes
and concurrent requests) and balanced (the traffic shares hold)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.experiments import service
from engine.experiments.definitions import Variant
from engine.experiments.models import ExperimentAssignment, Status
from engine.experiments.service import choose_variant
from locales import Catalog
from tests.engine.experiments.conftest import MESSAGE, TEXT_KEYS, definition, new_debtor
from tests.stack import ROOT

# Chi-square critical values at alpha = 0.001 (df -> value), from the standard table.
CHI2_CRITICAL_001 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467}
SIMULATED = 10_000


def variants(*shares: int) -> list[Variant]:
    return [Variant(key=f"v{i}", text_key=f"t{i}", share=s) for i, s in enumerate(shares)]


def chi_square(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


@pytest.mark.parametrize("shares", [(34, 33, 33), (50, 50), (10, 90), (25, 25, 25, 25), (70, 20, 10)])
@pytest.mark.parametrize("experiment_id", [1, 2, 977])
def test_ten_thousand_debtors_follow_the_shares(shares: tuple[int, ...], experiment_id: int) -> None:
    arms = variants(*shares)
    counts = Counter(choose_variant(experiment_id, debtor_id, arms).key for debtor_id in range(1, SIMULATED + 1))
    observed = [counts[v.key] for v in arms]
    assert sum(observed) == SIMULATED
    for variant, seen in zip(arms, observed, strict=True):
        assert abs(seen / SIMULATED * 100 - variant.share) <= 2.0, (variant, seen)
    expected = [SIMULATED * v.share / 100 for v in arms]
    assert chi_square(observed, expected) < CHI2_CRITICAL_001[len(arms) - 1], observed


def test_experiments_assign_independently() -> None:
    """Being in the challenger of one experiment says nothing about the next one."""
    arms = variants(34, 33, 33)
    table = Counter(
        (choose_variant(11, debtor, arms).key, choose_variant(12, debtor, arms).key) for debtor in range(SIMULATED)
    )
    rows = Counter(a for a, _ in table.elements())
    cols = Counter(b for _, b in table.elements())
    keys = [v.key for v in arms]
    observed = [table[(a, b)] for a in keys for b in keys]
    expected = [rows[a] * cols[b] / SIMULATED for a in keys for b in keys]
    assert chi_square(observed, expected) < CHI2_CRITICAL_001[4]


def test_same_debtor_same_variant_in_another_process() -> None:
    arms = variants(34, 33, 33)
    here = [choose_variant(42, debtor, arms).key for debtor in range(1, 501)]
    script = (
        "import json; from engine.experiments.definitions import Variant; from engine.experiments.service import choose_variant; "
        "arms = [Variant(key=f'v{i}', text_key=f't{i}', share=s) for i, s in enumerate((34, 33, 33))]; "
        "print(json.dumps([choose_variant(42, d, arms).key for d in range(1, 501)]))"
    )
    for seed in ("0", "12345"):  # str hashing differs per seed: the assignment must not
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert json.loads(out.stdout) == here


def test_shares_must_cover_the_whole_range() -> None:
    with pytest.raises(ValueError):
        for debtor in range(200):
            choose_variant(1, debtor, variants(50, 40))


async def _running(session: AsyncSession, catalog: Catalog, shares: tuple[int, ...] = (34, 33, 33)) -> int:
    experiment = await service.create(session=session, catalog=catalog, definition=definition(shares))
    await service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    return experiment.id


async def test_assign_is_stored_once_and_repeats_itself(session: AsyncSession, catalog: Catalog) -> None:
    assert await service.assign(session=session, message_key=MESSAGE, debtor_id=1) is None  # nothing runs yet
    experiment_id = await _running(session, catalog)
    debtors = [await new_debtor(session) for _ in range(30)]
    first = [await service.assign(session=session, message_key=MESSAGE, debtor_id=d.id) for d in debtors]
    again = [await service.assign(session=session, message_key=MESSAGE, debtor_id=d.id) for d in debtors]
    assert first == again
    arms = service.variants_of(await service.get(session=session, experiment_id=experiment_id))
    for debtor, assignment in zip(debtors, first, strict=True):
        assert assignment is not None and assignment.experiment_id == experiment_id and not assignment.promoted
        chosen = choose_variant(experiment_id, debtor.id, arms)
        assert (assignment.variant, assignment.text_key) == (chosen.key, TEXT_KEYS[chosen.key])
    stored = await session.scalar(
        select(func.count())
        .select_from(ExperimentAssignment)
        .where(ExperimentAssignment.experiment_id == experiment_id)
    )
    assert stored == len(debtors)
    assert await service.assign(session=session, message_key="utter_other_reminder", debtor_id=debtors[0].id) is None


async def test_assignment_does_not_depend_on_order(session: AsyncSession, catalog: Catalog) -> None:
    experiment_id = await _running(session, catalog)
    debtors = [await new_debtor(session) for _ in range(12)]
    for debtor in reversed(debtors):
        await service.assign(session=session, message_key=MESSAGE, debtor_id=debtor.id)
    stored = await session.execute(
        select(ExperimentAssignment.debtor_id, ExperimentAssignment.variant).where(
            ExperimentAssignment.experiment_id == experiment_id
        )
    )
    rows = {debtor_id: variant for debtor_id, variant in stored.all()}
    arms = service.variants_of(await service.get(session=session, experiment_id=experiment_id))
    assert rows == {d.id: choose_variant(experiment_id, d.id, arms).key for d in debtors}


async def test_concurrent_assigns_store_one_row_and_agree(
    committed: async_sessionmaker[AsyncSession], catalog: Catalog
) -> None:
    """Two processes sending the same reminder at once: one row, the same variant for both. The
    second insert waits for the first transaction and loses on the unique constraint (PostgreSQL),
    or waits for SQLite's write lock and then finds the row."""
    async with committed() as session:
        experiment_id = await _running(session, catalog)
        debtor_id = (await new_debtor(session)).id
        await session.commit()

    async def assign_in(session: AsyncSession) -> service.Assignment | None:
        found = await service.assign(session=session, message_key=MESSAGE, debtor_id=debtor_id)
        await session.commit()
        return found

    async with committed() as first_session, committed() as second_session:
        first = await service.assign(session=first_session, message_key=MESSAGE, debtor_id=debtor_id)
        racing = asyncio.create_task(assign_in(second_session))
        await asyncio.sleep(0.3)  # the second is now blocked behind the first's uncommitted row / lock
        assert not racing.done()
        await first_session.commit()
        second = await asyncio.wait_for(racing, timeout=15)
    assert first == second and first is not None

    async def assign_new_session() -> service.Assignment | None:
        async with committed() as session:
            return await assign_in(session)

    many = await asyncio.gather(*(assign_new_session() for _ in range(6)))
    assert set(many) == {first}
    async with committed() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(ExperimentAssignment)
            .where(ExperimentAssignment.experiment_id == experiment_id, ExperimentAssignment.debtor_id == debtor_id)
        )
        assert rows == 1


async def test_after_promotion_everybody_gets_the_winner(session: AsyncSession, catalog: Catalog) -> None:
    experiment_id = await _running(session, catalog)
    debtors = [await new_debtor(session) for _ in range(20)]
    before = {d.id: await service.assign(session=session, message_key=MESSAGE, debtor_id=d.id) for d in debtors}
    assert {a.variant for a in before.values() if a} == {"neutral", "loss_aversion", "social_proof"}

    promoted = await service.promote(session=session, experiment_id=experiment_id, variant="social_proof")
    assert promoted.status is Status.PROMOTED and promoted.winner == "social_proof"
    newcomer = await new_debtor(session)
    for debtor_id in [*before, newcomer.id]:
        found = await service.assign(session=session, message_key=MESSAGE, debtor_id=debtor_id)
        assert found == service.Assignment(experiment_id, "social_proof", TEXT_KEYS["social_proof"], promoted=True)
    # Nobody new is assigned: the experiment's results stay those of the experiment itself.
    stored = await session.scalar(
        select(func.count())
        .select_from(ExperimentAssignment)
        .where(ExperimentAssignment.experiment_id == experiment_id)
    )
    assert stored == len(debtors)

    # A new experiment on the same message takes over while it runs ...
    challenger = await _running(session, catalog, (50, 50))
    found = await service.assign(session=session, message_key=MESSAGE, debtor_id=newcomer.id)
    assert found is not None and found.experiment_id == challenger and not found.promoted
    # ... and once it is promoted, the earlier winner is retired.
    await service.promote(session=session, experiment_id=challenger, variant="neutral")
    assert (await service.get(session=session, experiment_id=experiment_id)).status is Status.STOPPED
    found = await service.assign(session=session, message_key=MESSAGE, debtor_id=newcomer.id)
    assert found == service.Assignment(challenger, "neutral", MESSAGE, promoted=True)

    # Stopping the promoted experiment sends the message's own text again.
    await service.stop(session=session, experiment_id=challenger)
    assert await service.assign(session=session, message_key=MESSAGE, debtor_id=newcomer.id) is None
