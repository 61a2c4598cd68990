"""End to end: a debtor placed by a portfolio import under the agency's own reference format
verifies by typing it in another spelling (in the form, and out of the blue)."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import pytest

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from core.database import make_engine, make_sessionmaker
from locales import Catalog
from people.portfolio import service as portfolio
from tests.people.portfolio.portfolio import as_csv, creditor, row
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()


def text(key: str, **args: object) -> str:
    return catalog.render(key, "en", None, dict(args)).text


def import_one(database_url: str) -> tuple[str, str]:
    """Imports one English debtor (Eva, born 1980-02-03, £1,050.00); its reference and surname."""
    reference = f"INV/{secrets.randbelow(9000) + 1000}/{secrets.randbelow(10**5):05d}"
    surname = "Berg" + "".join(secrets.choice("abcdefghij") for _ in range(5))
    data = as_csv([row(creditor(), reference, last_name=surname, country="GB", language="en", currency="GBP")])

    async def run() -> None:
        engine = make_engine(database_url)
        try:
            report = await portfolio.run(
                sessionmaker=make_sessionmaker(engine), data=data, filename="e2e.csv", source="cli"
            )
            assert report.debts_created == 1 and not report.problems
        finally:
            await engine.dispose()

    asyncio.run(run())
    return reference, surname


def joined(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages).replace("\xa0", " ")


def test_the_form_reads_an_imported_reference_typed_with_spaces(stack: Stack) -> None:
    reference, _ = import_one(stack.database_url)
    session = f"e2e-{uuid.uuid4().hex}"
    stack.say(session, "hi there")
    assert [m["text"] for m in stack.say(session, "how much do i owe")][-1] == text("utter_ask_reference")
    head, year, number = reference.split("/")
    asked = stack.say(session, f"{head.lower()}{year} {number}")
    assert [m["text"] for m in asked] == [text("utter_ask_dob")]
    answer = stack.say(session, "03/02/1980")
    assert "Eva" in answer[0]["text"]
    assert text("balance_total_line", amount="£1,050.00") in joined(answer[1:])


def test_out_of_the_blue_an_imported_reference_with_dashes_starts_verification(stack: Stack) -> None:
    reference, _ = import_one(stack.database_url)
    session = f"e2e-{uuid.uuid4().hex}"
    stack.say(session, "hello")
    asked = stack.say(session, f"my ref is {reference.replace('/', '-').lower()}")
    assert [m["text"] for m in asked][-1] == text("utter_ask_dob")
    answer = stack.say(session, "3 February 1980")
    assert "Eva" in answer[0]["text"]
