"""The gateway's periodic job on a real committing database (SQLite and PostgreSQL): the provider
clients from the environment, the first SMS sent once across two runs, a plan that sends nothing
builds no provider client."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutputChannel
from money.outreach import service
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.outreach.conftest import BASE_URL, NOW, make_debtor
from tests.money.reminders.conftest import to
from tests.money.reminders.test_restart import outputs_from_environment, provider_env  # noqa: F401 - fixture

Fakes = tuple[FakeTwilio, FakeTelegram]


async def test_the_scheduled_job_sends_each_first_contact_once(
    committed: async_sessionmaker[AsyncSession],
    fakes: Fakes,
    provider_env: None,  # noqa: F811
) -> None:
    twilio, _ = fakes
    async with committed() as session:
        debtor, _ = await make_debtor(session)
        await session.commit()
    built: list[int] = []

    def outputs() -> dict[str, OutputChannel]:
        built.append(1)
        return outputs_from_environment()

    # At a fixed moment inside the debtor's contact hours (the job's `now`), whatever the clock says.
    first = await service.run_scheduled(committed, outputs, BASE_URL, now=NOW)
    second = await service.run_scheduled(committed, outputs, BASE_URL, now=NOW)
    async with committed() as session:
        [decision] = await service.plan(session=session, now=NOW, debtor_ids=[debtor.id])
    assert len(to(twilio, debtor.phone)) == 1 and first.counts().get("sent", 0) >= 1
    assert second.counts().get("sent", 0) == 0 and (decision.action, decision.reason) == ("defer", "next_step")
    assert len(built) == 1  # the second run had nothing to send: no provider client was built


async def test_one_call_plans_and_sends_with_the_environments_channels(
    committed: async_sessionmaker[AsyncSession],
    fakes: Fakes,
    provider_env: None,  # noqa: F811
) -> None:
    """What an end-to-end test or a tool calls after an import: `run(session=..., now=...)`."""
    twilio, _ = fakes
    async with committed() as session:
        debtor, _ = await make_debtor(session)
        await session.commit()
        result = await service.run(session=session, now=NOW)
    assert result.counts().get("sent", 0) >= 1  # the demo debtors in this database may be contacted too
    [body] = to(twilio, debtor.phone)
    assert "http://127.0.0.1:8000/?lang=en#t=" in body  # PUBLIC_BASE_URL's default
