"""Collection policy by jurisdiction: the debtor's country decides plan limits, interest and the
allocation order, whatever language they write in; creditor overrides still merge over it."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from money.policies.service import policy_for, policy_of
from people.debtors.models import Debtor

LOCALES = ("en", "sv", "de", "pt-BR")
MIN_INSTALLMENT = {"GB": "10.00", "SE": "200.00", "DE": "25.00", "BR": "50.00"}


def debtor(country: str | None, locale: str) -> Debtor:
    return Debtor(
        reference=f"PO-{uuid.uuid4().hex[:10]}", name="Pat Policy", date_of_birth=date(1980, 1, 1),
        locale=locale, timezone="Europe/Berlin", country=country,
    )  # fmt: skip


@pytest.mark.parametrize("country", sorted(MIN_INSTALLMENT))
@pytest.mark.parametrize("locale", LOCALES)
def test_the_country_decides_the_policy_not_the_language(country: str, locale: str) -> None:
    policy = policy_of(debtor(country, locale))
    assert policy == policy_for(country=country)
    assert policy.plan.min_installment == Decimal(MIN_INSTALLMENT[country])


def test_a_german_case_writing_english_keeps_german_plan_rules() -> None:
    policy = policy_of(debtor("DE", "en"))
    assert policy.plan.annual_interest_rate == Decimal("5.0") and not policy.plan.token_payment_in_hardship
    assert policy.allocation_order == ("fees", "interest", "principal")  # §367 BGB
    uk = policy_of(debtor("GB", "de"))
    assert uk.plan.token_payment_in_hardship and uk.plan.token_min_installment == Decimal("1.00")


def test_legacy_rows_unconfigured_countries_and_creditor_overrides() -> None:
    assert policy_of(debtor(None, "pt-BR")).plan.max_months == 10  # what the locale stood for: Brazil
    assert policy_of(debtor("FR", "pt-BR")) == policy_for(country="GB")  # the deployment's default
    assert policy_of(debtor("SE", "en"), creditor="ElKraft AB").plan.max_months == 6
