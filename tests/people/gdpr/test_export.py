"""Right of access: the export holds every row about the debtor, in every registered table, and
nothing about anybody else; it is plain JSON (ISO dates, amounts as strings)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors.models import Debtor
from people.gdpr import service
from people.gdpr.registry import REGISTRY
from tests.people.gdpr.people import build


async def test_export_has_a_row_in_every_registered_table(session: AsyncSession) -> None:
    person = await build(session)
    document = await service.export(session=session, debtor_id=person.debtor_id)

    empty = [entry.table for entry in REGISTRY if not document["tables"].get(entry.table)]
    # erasure_requests fills up only when erasure is asked for; everything else has a row.
    assert empty == ["erasure_requests"], empty
    assert document["debtor_id"] == person.debtor_id and document["erased"] is False
    [debtor] = document["tables"]["debtors"]
    assert debtor["name"] == person.name and debtor["date_of_birth"] == person.date_of_birth.isoformat()
    # The SMS chat (never verified) and the Telegram chat are found through the debtor's number / identity.
    assert {c["id"] for c in document["tables"]["conversations"]} == set(person.conversation_ids)
    assert {m["text"] for m in document["tables"]["messages"]} >= {person.texts[0], f"sms {person.texts[0]}"}
    # Ledger: the opening and the payment, with every entry of both (cash and creditor legs too).
    kinds = sorted(t["kind"] for t in document["tables"]["ledger_transactions"])
    assert kinds == ["opening", "payment"]
    assert sum(e["amount_minor"] for e in document["tables"]["ledger_entries"]) == 0
    assert document["tables"]["debt_components"][0]["amount"] == "100.00"
    assert document["on_erasure"]["ledger_entries"]["action"] == "keep"

    decoded = json.loads(service.dumps(document))
    assert decoded["tables"]["payments"][0]["succeeded_at"].endswith("+00:00")


async def test_export_holds_nothing_about_other_debtors(session: AsyncSession) -> None:
    person = await build(session)
    other = await build(session)
    document = json.dumps(await service.export(session=session, debtor_id=person.debtor_id), default=str)
    for value in other.pii:
        assert value not in document, value
    emily = await session.scalar(select(Debtor).where(Debtor.reference == "UK-300552"))
    assert emily is not None and emily.name not in document


async def test_find_by_reference_in_any_spelling_or_by_id(session: AsyncSession) -> None:
    person = await build(session)
    for query in (person.reference, person.reference.lower().replace("-", " "), f"#{person.debtor_id}"):
        assert [d.id for d in await service.find(session=session, query=query)] == [person.debtor_id], query
    assert await service.find(session=session, query="XX-000000") == []
    counts = await service.counts(
        session=session, debtor=await service.get_debtor(session=session, debtor_id=person.debtor_id)
    )
    assert counts["messages"] == 3 and counts["conversations"] == 3
