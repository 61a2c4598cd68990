"""Debtor, debt and debt component tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base, UTCDateTime, utcnow
from people.debtors.references import key_default


class DebtStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    DISPUTED = "disputed"
    CLOSED = "closed"


class ComponentKind(StrEnum):
    PRINCIPAL = "principal"
    INTEREST = "interest"
    FEES = "fees"


class Debtor(Base):
    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case reference printed on letters; with the date of birth it proves identity.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # How a typed reference finds it (references.py); None once erased: nobody verifies as it.
    reference_key: Mapped[str | None] = mapped_column(String(32), index=True, default=key_default)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    # The jurisdiction (ISO 3166-1 alpha-2) the creditor placed the case in; None for older rows.
    country: Mapped[str | None] = mapped_column(String(2))
    # Where known, the subdivision of that country (the ISO 3166-2 part after the dash, e.g. BY for
    # Bavaria, SCT for Scotland): regional public holidays (people/jurisdiction). None: nationwide ones.
    region: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_channel: Mapped[str] = mapped_column(String(16), default="webchat")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    debts: Mapped[list[Debt]] = relationship(back_populates="debtor", order_by="Debt.id", cascade="all, delete-orphan")


class Debt(Base):
    __tablename__ = "debts"
    # A creditor's reference names one debt: a portfolio re-import updates it, never duplicates it.
    __table_args__ = (UniqueConstraint("creditor", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    creditor: Mapped[str] = mapped_column(String(200))
    # The creditor's own invoice/contract reference.
    reference: Mapped[str] = mapped_column(String(64))
    # The reference as a person may type it (references.py); None once the debtor is erased.
    reference_key: Mapped[str | None] = mapped_column(String(64), index=True, default=key_default)
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[DebtStatus] = mapped_column(
        Enum(DebtStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=DebtStatus.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="debts")
    components: Mapped[list[DebtComponent]] = relationship(
        back_populates="debt", order_by="DebtComponent.id", cascade="all, delete-orphan"
    )

    @property
    def amount(self) -> Decimal:
        return sum((c.amount for c in self.components), Decimal("0"))


class DebtComponent(Base):
    __tablename__ = "debt_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ComponentKind] = mapped_column(
        Enum(ComponentKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    description: Mapped[str | None] = mapped_column(String(200))

    debt: Mapped[Debt] = relationship(back_populates="components")
