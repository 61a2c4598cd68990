"""`python -m app.manage outreach-run --at …` (what `make outreach-run AT=…` runs) sends the first
contacts due at that moment through the provider settings of the environment, as the gateway's
scheduler would (the real Twilio adapter talking to the loopback fake), and prints counts only.
On a fresh database with the demo data (SQLite and PostgreSQL): four overdue debtors in four
jurisdictions, of whom the British and the Swedish one can be texted."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.manage import main
from money.outreach.models import OutreachCase
from people.debtors.models import Debt, Debtor
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.reminders.conftest import to
from tests.stack_env import twilio_env

AT = "2026-12-08T10:00:00Z"  # a Tuesday: 10:00 in London, 11:00 in Stockholm (as test_report.py)
SITE = "https://assist.example.org"
BRITISH, SWEDISH = "NW-88214", "EK-552310"  # the debts' own references


async def test_one_run_sends_the_due_first_contacts_once_and_prints_only_counts(
    committed: async_sessionmaker[AsyncSession],
    fakes: tuple[FakeTwilio, FakeTelegram],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    twilio, _ = fakes
    engine = committed.kw["bind"]
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PUBLIC_BASE_URL", SITE)
    for name, value in twilio_env(twilio).items():
        monkeypatch.setenv(name, value)
    phones = await _phones(committed, BRITISH, SWEDISH)
    before = {ref: len(to(twilio, phone)) for ref, phone in phones.items()}

    assert await _run(["outreach-run", "--at", AT]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["at"] == "2026-12-08T10:00:00+00:00"
    assert (summary["sent"], summary["failed"], summary["listed"]) == (2, 0, 0), summary
    # Planned per debt, sent per person (one message covers all of a person's debts due on that channel).
    assert summary["send"] >= 2 and summary["debts"] == summary["send"] + summary["defer"] + summary["skip"]
    assert set(summary) == {"at", "debts", "send", "defer", "skip", "sent", "failed", "listed"}  # no personal data
    for ref, locale in ((BRITISH, "en"), (SWEDISH, "sv")):
        [text] = to(twilio, phones[ref])[before[ref] :]
        assert re.search(rf"{re.escape(SITE)}/\?lang={locale}#t=[A-Za-z0-9_-]{{16,128}}", text), text
    async with committed() as session:
        started = await session.scalars(
            select(OutreachCase.step).join(Debt, Debt.id == OutreachCase.debt_id).where(Debt.reference == BRITISH)
        )
        assert started.all() == [1]

    # The same moment again: day 0 is done, day 3 has not come; nothing goes out twice.
    assert await _run(["outreach-run", "--at", AT]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["send"], again["sent"]) == (0, 0), again
    assert all(len(to(twilio, phone)) == before[ref] + 1 for ref, phone in phones.items())


async def _phones(maker: async_sessionmaker[AsyncSession], *references: str) -> dict[str, str]:
    async with maker() as session:
        rows = await session.execute(
            select(Debt.reference, Debtor.phone)
            .join(Debtor, Debtor.id == Debt.debtor_id)
            .where(Debt.reference.in_(references))
        )
        return {ref: str(phone) for ref, phone in rows.tuples().all()}


async def _run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)
