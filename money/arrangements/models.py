"""Installment plans, their installments, and promises to pay.

Amounts are integers in the currency's minor unit, like the ledger. Whether an installment or
a promise was honoured is never typed in by anyone: `service.evaluate_plans` and
`service.evaluate_promises` derive it from the money the ledger received.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Date, Enum, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base, UTCDateTime, utcnow


def _enum(enum: type[StrEnum], length: int = 16) -> Enum:
    return Enum(enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    AT_RISK = "at_risk"  # an installment was missed; reminders (a later issue) act on this
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstallmentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    MISSED = "missed"


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class PaymentPlan(Base):
    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="RESTRICT"), index=True)
    # The chat the plan was agreed in (where reminders and links go back to).
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    currency: Mapped[str] = mapped_column(String(3))
    # The open debts the plan covers, oldest first (payments are allocated in this order).
    debt_ids: Mapped[list[int]] = mapped_column(JSON)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency))
    # What was owed when the plan was agreed, and the plan's own costs (shown before agreeing).
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    setup_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    annual_interest_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("0"))
    # Agreed under the hardship token-payment allowance.
    hardship: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    installments: Mapped[list[Installment]] = relationship(
        back_populates="plan", order_by="Installment.seq", cascade="all, delete-orphan"
    )

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.setup_fee_minor + self.interest_minor


class Installment(Base):
    __tablename__ = "plan_installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_plan_installments_plan_id_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column()  # 1-based position in the schedule
    due_date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # How the amount splits (itemised costs, §13a RDG): principal + interest + setup fee.
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[InstallmentStatus] = mapped_column(_enum(InstallmentStatus), default=InstallmentStatus.PENDING)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[PaymentPlan] = relationship(back_populates="installments")


class PaymentPromise(Base):
    __tablename__ = "payment_promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="RESTRICT"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The day the person said they would pay, in their own time zone.
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[PromiseStatus] = mapped_column(_enum(PromiseStatus), default=PromiseStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
