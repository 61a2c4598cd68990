"""Right of access (Art. 15 GDPR): find everything about one debtor and export it as JSON.

The rows are found through people/gdpr/registry.py: first the ids that make up the debtor's world
(their conversations, debts, payments, plans, ledger transactions and channel addresses), then
every registered table's rows that point at one of them. Tables are read through
`Base.metadata`, so tables added by other features are exported once they are registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Table, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Base, utcnow
from core.errors import RequestRefused
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.debtors.references import reference_key
from people.gdpr.models import ErasureRequest, ErasureStatus
from people.gdpr.registry import REGISTRY, Entry, Kind

# Channels whose conversation address is the person's own (a phone number, a Telegram chat).
ADDRESS_CHANNELS = ("sms", "whatsapp", "telegram")
PHONE_CHANNELS = ("sms", "whatsapp")
EXPORT_FORMAT = "debtor-export/1"


class GdprError(RequestRefused):
    """`code` is the API's `detail`, `status` its HTTP status."""


@dataclass
class Scope:
    """The ids (per kind) that belong to one debtor."""

    debtor_id: int
    ids: dict[Kind, set[Any]] = field(default_factory=dict)

    def of(self, kind: Kind) -> set[Any]:
        return self.ids.setdefault(kind, set())


def table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _ids(rows: Any) -> set[Any]:
    return {value for value in rows if value is not None}


async def _column_values(session: AsyncSession, name: str, column: str, where: ColumnElement[bool]) -> set[Any]:
    found = table(name)
    if found is None or column not in found.c:
        return set()
    return _ids((await session.scalars(select(found.c[column]).where(where))).all())


async def resolve(*, session: AsyncSession, debtor: Debtor) -> Scope:
    scope = Scope(debtor.id)
    t = Base.metadata.tables
    scope.of(Kind.DEBTOR).add(debtor.id)
    for kind, name in ((Kind.DEBT, "debts"), (Kind.PAYMENT, "payments"), (Kind.PLAN, "payment_plans")):
        scope.of(kind).update(await _column_values(session, name, "id", t[name].c.debtor_id == debtor.id))

    addresses = scope.of(Kind.ADDRESS)
    if debtor.phone:
        addresses.update((channel, debtor.phone) for channel in PHONE_CHANNELS)
    for name in ("channel_identities", "consents"):
        rows = await session.execute(
            select(t[name].c.channel, t[name].c.address).where(t[name].c.debtor_id == debtor.id)
        )
        addresses.update(rows.tuples().all())
    conversations = t["conversations"]
    rows = await session.execute(
        select(conversations.c.channel, conversations.c.external_id).where(
            conversations.c.debtor_id == debtor.id, conversations.c.channel.in_(ADDRESS_CHANNELS)
        )
    )
    addresses.update(rows.tuples().all())

    linked = scope.of(Kind.CONVERSATION)
    linked.update(await _column_values(session, "conversations", "id", conversations.c.debtor_id == debtor.id))
    if addresses:
        # Conversations from the person's own numbers, unless verified as somebody else.
        linked.update(
            await _column_values(
                session,
                "conversations",
                "id",
                tuple_(conversations.c.channel, conversations.c.external_id).in_(sorted(addresses))
                & or_(conversations.c.debtor_id.is_(None), conversations.c.debtor_id == debtor.id),
            )
        )
    for entry in REGISTRY:  # the chats where the debtor paid, promised, disputed, was reminded...
        found = table(entry.table)
        if entry.table in ("conversations", "verification_attempts") or found is None:
            continue
        if "conversation_id" in found.c and "debtor_id" in found.c:
            linked.update(await _column_values(session, entry.table, "conversation_id", found.c.debtor_id == debtor.id))

    entries, transactions = t["ledger_entries"], t["ledger_transactions"]
    booked = entries.c.debtor_id == debtor.id
    if scope.of(Kind.DEBT):
        booked = booked | entries.c.debt_id.in_(sorted(scope.of(Kind.DEBT)))
    scope.of(Kind.TRANSACTION).update(await _column_values(session, "ledger_entries", "transaction_id", booked))
    if scope.of(Kind.PAYMENT):
        scope.of(Kind.TRANSACTION).update(
            await _column_values(
                session, "ledger_transactions", "id", transactions.c.payment_id.in_(sorted(scope.of(Kind.PAYMENT)))
            )
        )
    return scope


def where(entry: Entry, found: Table, scope: Scope) -> ColumnElement[bool]:
    """The rows of a registered table that belong to the scope (false when none can)."""
    conditions = []
    for link in entry.links:
        values = sorted(scope.of(link.kind))
        if not values or any(column not in found.c for column in link.columns):
            continue
        if len(link.columns) == 1:
            conditions.append(found.c[link.columns[0]].in_(values))
        else:
            conditions.append(tuple_(*(found.c[c] for c in link.columns)).in_(values))
    return or_(*conditions) if conditions else false()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    return value


async def rows_of(*, session: AsyncSession, entry: Entry, scope: Scope) -> list[dict[str, Any]]:
    found = table(entry.table)
    if found is None:
        return []
    result = await session.execute(select(found).where(where(entry, found, scope)).order_by(*found.primary_key))
    return [{key: _plain(value) for key, value in row.items()} for row in result.mappings().all()]


async def get_debtor(*, session: AsyncSession, debtor_id: int) -> Debtor:
    debtor = await session.get(Debtor, debtor_id)
    if debtor is None:
        raise GdprError("not_found", 404)
    return debtor


async def completed_erasure(*, session: AsyncSession, debtor_id: int) -> ErasureRequest | None:
    return await session.scalar(
        select(ErasureRequest)
        .where(ErasureRequest.debtor_id == debtor_id, ErasureRequest.status == ErasureStatus.COMPLETED)
        .order_by(ErasureRequest.id)
        .limit(1)
    )


async def export(*, session: AsyncSession, debtor_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about the debtor, table by table, with what erasure does to each table."""
    debtor = await get_debtor(session=session, debtor_id=debtor_id)
    scope = await resolve(session=session, debtor=debtor)
    tables = {}
    for entry in REGISTRY:
        if table(entry.table) is not None:
            tables[entry.table] = await rows_of(session=session, entry=entry, scope=scope)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": (now or utcnow()).isoformat(),
        "debtor_id": debtor.id,
        "erased": await completed_erasure(session=session, debtor_id=debtor.id) is not None,
        "tables": tables,
        "on_erasure": {
            entry.table: {"action": entry.action.value, "why": entry.why}
            for entry in REGISTRY
            if table(entry.table) is not None
        },
    }


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, default=_plain).encode()


async def counts(*, session: AsyncSession, debtor: Debtor) -> dict[str, int]:
    """Rows per table about the debtor (what an export holds, what erasure will touch)."""
    scope = await resolve(session=session, debtor=debtor)
    result = {}
    for entry in REGISTRY:
        found = table(entry.table)
        if found is not None:
            result[entry.table] = len(
                (await session.execute(select(*found.primary_key).where(where(entry, found, scope)))).all()
            )
    return result


async def find(*, session: AsyncSession, query: str) -> list[Debtor]:
    """By case or debt reference (any spelling the chat accepts: "uk 300552", "inv 2024 00123"),
    or by id ("#12" or "12")."""
    text = query.strip()
    if text.lstrip("#").isdigit():
        found = await session.get(Debtor, int(text.lstrip("#"))) if len(text) < 10 else None
        return [found] if found else []
    key = reference_key(text)
    return await debtors_service.by_reference_key(session=session, key=key) if key else []


async def erasures(*, session: AsyncSession, offset: int = 0, limit: int = 50) -> list[ErasureRequest]:
    rows = await session.scalars(select(ErasureRequest).order_by(ErasureRequest.id.desc()).offset(offset).limit(limit))
    return list(rows.all())
