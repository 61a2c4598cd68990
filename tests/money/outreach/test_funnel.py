"""The first-contact funnel (SQLite and PostgreSQL): contacted → replied → verified → paid or
agreed, per cadence step and per text variant of a running experiment on the first-contact text;
and the stops a verification and a payment make."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction
from engine.experiments import outcomes as experiment_outcomes
from engine.experiments import service as experiments_service
from engine.experiments.models import ExperimentAssignment
from locales import Catalog
from money.ledger import service as ledger_service
from money.outreach import service
from money.outreach.sender import TEXT_KEY
from payments.models import Payment
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.outreach.conftest import BASE_URL, NOW, cadence, cases, make_debtor
from tests.money.reminders.conftest import make_promise, open_config, to

Fakes = tuple[FakeTwilio, FakeTelegram]


async def run(session: AsyncSession, outputs: dict, catalog: Catalog, debtors: list[Debtor], hours: float = 0) -> None:
    await service.run(
        session=session, now=NOW + timedelta(hours=hours), outputs=outputs, base_url=BASE_URL, catalog=catalog,
        config=cadence(), contact=open_config(), debtor_ids=[d.id for d in debtors],
    )  # fmt: skip


async def pay_all(session: AsyncSession, debtor: Debtor, amount_minor: int) -> None:
    debts = await debtors_service.open_debts(session=session, debtor_id=debtor.id)
    payment = Payment(debtor_id=debtor.id, provider="sandbox", currency="GBP", amount_minor=amount_minor,
                      debt_ids=[d.id for d in debts])  # fmt: skip
    session.add(payment)
    await session.flush()
    await ledger_service.record_payment(
        session=session, key=f"payment:{payment.id}", payment_id=payment.id, debtor_id=debtor.id, provider="sandbox",
        currency="GBP", amount_minor=amount_minor, debts=debts,
    )  # fmt: skip


async def test_the_funnel_per_step_and_variant(
    session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    experiment = await experiments_service.create(
        session=session, catalog=catalog,
        definition=experiments_service.Definition(
            name="First contact framing", message_key=TEXT_KEY, outcome_days=14,
            variants=[experiments_service.Variant("short", f"{TEXT_KEY}_short", 50),
                      experiments_service.Variant("social_proof", f"{TEXT_KEY}_social_proof", 50)],
        ),
    )  # fmt: skip
    await experiments_service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    silent, replying, verifying, paying, promising = [(await make_debtor(session))[0] for _ in range(5)]
    everyone = [silent, replying, verifying, paying, promising]
    await run(session, outputs, catalog, everyone)

    for debtor in everyone:  # each got the text of their variant, with its link
        [body] = to(twilio, debtor.phone)
        [case] = await cases(session, debtor)
        assert case.experiment_id == experiment.id and case.variant in ("short", "social_proof")
        expected = catalog.render(f"{TEXT_KEY}_{case.variant}", "en", None, {"link": "LINK"}).text
        assert body.split("http")[0] == expected.split("LINK")[0]
    at = NOW + timedelta(hours=2)
    answered = await conversations_service.find(session=session, channel="sms", external_id=replying.phone or "")
    assert answered is not None  # the conversation the first message went out in
    answered.last_inbound_at = at  # as the pipeline records a reply
    await conversations_service.add_message(
        session=session, conversation=answered, direction=Direction.INBOUND, text="ok", now=at
    )
    session.add(Conversation(channel="webchat", external_id="link-chat-verifying", debtor_id=verifying.id,
                             verified_at=at, last_inbound_at=at))  # fmt: skip
    await pay_all(session, paying, 12000)
    await make_promise(session, promising, NOW.date() + timedelta(days=10))
    await session.flush()
    await run(session, outputs, catalog, everyone, hours=3)

    stops = {d.id: [c.stopped_reason for c in await cases(session, d)] for d in everyone}
    assert stops == {silent.id: [None], replying.id: ["replied"], verifying.id: ["verified"], paying.id: ["paid"],
                     promising.id: ["agreed"]}  # fmt: skip
    # A paid debt is no longer open: nothing more is planned for it (and the funnel counts it).
    assert await service.plan(session=session, now=NOW + timedelta(days=3), debtor_ids=[paying.id]) == []

    funnel = await service.funnel(session=session, since=NOW - timedelta(minutes=1), until=NOW + timedelta(minutes=1))
    total = funnel["total"]
    assert (total["contacted"], total["replied"], total["verified"], total["settled"]) == (5, 2, 1, 2)
    assert total["reply_rate"] == 0.4 and total["settle_rate"] == 0.4
    assert [(s["step"], s["contacted"], s["replied"]) for s in funnel["steps"]] == [(1, 5, 2)]
    variants = {v["variant"]: v for v in funnel["variants"]}
    assert set(variants) <= {"short", "social_proof"} and sum(v["contacted"] for v in variants.values()) == 5
    assert sum(v["settled"] for v in variants.values()) == 2
    # The experiment's own results count the answer to the first contact as a reply too (assigned
    # at the test's clock, not the wall clock, so the answer comes after the assignment).
    await session.execute(
        update(ExperimentAssignment).where(ExperimentAssignment.experiment_id == experiment.id).values(assigned_at=NOW)
    )
    replied = await experiment_outcomes.first_occurrences(
        session=session, experiment_id=experiment.id, metric=experiment_outcomes.Metric.REPLIED
    )
    assert list(replied.values()) == [at]  # the answer to the SMS, in the conversation it went out in
