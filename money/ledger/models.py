"""Ledger tables. Amounts are integers in the currency's minor unit (öre, cent, pence, centavo)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base, UTCDateTime, utcnow


class TransactionKind(StrEnum):
    OPENING = "opening"  # a debt is placed with us: receivable up, creditor claim up
    CHARGE = "charge"  # a cost added later (e.g. an agreed plan's fee or interest)
    PAYMENT = "payment"  # money in: cash up, receivables down (allocated per component)
    REFUND = "refund"  # money back out: the reverse of a payment
    ADJUSTMENT = "adjustment"  # the creditor changed a placed amount (a re-imported portfolio): with a reason


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(
        Enum(TransactionKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    # Unique: posting the same movement twice (webhook replays, races) is impossible by construction.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    # Why an adjustment was booked (e.g. which import changed which component from what to what).
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", cascade="all, delete-orphan")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="CASCADE"), index=True)
    # e.g. "receivable" (what the debtor owes, per debt and component), "cash:stripe", "creditor", "credit"
    account: Mapped[str] = mapped_column(String(64))
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="RESTRICT"), index=True)
    component: Mapped[str | None] = mapped_column(String(16))
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="RESTRICT"), index=True)
    # Positive = debit, negative = credit; every transaction sums to zero.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
