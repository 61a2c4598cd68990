"""Fill text placeholders, formatting money, dates and times with Babel for the locale.

Structured arguments (a balance's debts and totals) are composed from line templates that
also live in the locale's messages file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

if TYPE_CHECKING:
    from locales.catalog import LocaleConfig


class _Blank(dict[str, Any]):
    """Unknown placeholders stay visible instead of raising (a text typo must not be a 500)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Formatter:
    def __init__(self, *, config: LocaleConfig, text: Callable[[str], str]) -> None:
        self.config = config
        self.text = text

    def money(self, amount: Decimal | str | float, currency: str) -> str:
        return format_currency(Decimal(str(amount)), currency, locale=self.config.babel)

    def date(self, value: date | str) -> str:
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, format="medium", locale=self.config.babel)

    def datetime(self, value: datetime | str, timezone: str | None = None) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        tz = ZoneInfo(timezone or self.config.default_timezone)
        return format_datetime(value.astimezone(tz), format="short", locale=self.config.babel)

    def debts(self, debts: list[Mapping[str, Any]]) -> str:
        lines: list[str] = []
        for debt in debts:
            currency = debt["currency"]
            lines.append(
                self.text("balance_debt_line").format_map(
                    _Blank(
                        creditor=debt["creditor"],
                        reference=debt["reference"],
                        due_date=self.date(debt["due_date"]),
                        amount=self.money(debt["amount"], currency),
                    )
                )
            )
            if hold := debt.get("hold"):  # collection paused (a dispute, a hardship pause): marked
                try:
                    lines.append(self.text(f"balance_hold_{hold}"))
                except KeyError:  # a hold without a text of its own still shows as paused
                    lines.append(self.text("balance_hold_other"))
            components = debt.get("components") or []
            if len(components) > 1:
                for part in components:
                    lines.append(
                        self.text("balance_component_line").format_map(
                            _Blank(
                                component=self.text(f"component_{part['kind']}"),
                                amount=self.money(part["amount"], currency),
                            )
                        )
                    )
        return "\n".join(lines)

    def totals(self, totals: list[Mapping[str, Any]]) -> str:
        template = self.text("balance_total_line")
        return "\n".join(template.format_map(_Blank(amount=self.money(t["amount"], t["currency"]))) for t in totals)

    def schedule(self, rows: list[Mapping[str, Any]]) -> str:
        template = self.text("plan_schedule_line")
        return "\n".join(
            template.format_map(
                _Blank(due_date=self.date(r["due_date"]), amount=self.money(r["amount"], r["currency"]))
            )
            for r in rows
        )

    def contact(self, value: Mapping[str, Any]) -> str:
        """An organisation (`name`, optional `phone`, `url`: the jurisdiction's data) in this
        locale's words, e.g. "National Debtline (0808 808 4000, https://…)"."""
        phone, url = value.get("phone"), value.get("url")
        if phone and url:
            key = "hardship_advice_phone_url"
        elif phone:
            key = "hardship_advice_phone"
        elif url:
            key = "hardship_advice_url"
        else:
            return str(value.get("name") or "")
        return self.text(key).format_map(_Blank(name=value.get("name") or "", phone=phone or "", url=url or ""))

    def fill(self, template: str, arguments: Mapping[str, Any]) -> str:
        """Conventions: `debts`, `totals`, `schedule` are lists composed from line templates;
        `advice` is a contact ({"name", "phone", "url"}: the debtor's jurisdiction's free debt
        advice, people/jurisdiction) or an already worded text;
        `until` is an ISO datetime; `*_money` is {"amount", "currency"}; `*_date` is an ISO date;
        `*_percent` is a number written the locale's way (4,5 in German); `x_key` names a catalog
        text that fills `{x}`."""
        values = _Blank(example=self.config.date_example)
        for key, value in arguments.items():
            if key == "debts" and isinstance(value, list):
                values[key] = self.debts(value)
            elif key == "totals" and isinstance(value, list):
                values[key] = self.totals(value)
            elif key == "schedule" and isinstance(value, list):
                values[key] = self.schedule(value)
            elif key == "advice" and isinstance(value, Mapping):
                values[key] = self.contact(value)
            elif key == "until" and isinstance(value, str):
                values[key] = self.datetime(value, arguments.get("timezone"))
            elif key.endswith("_money") and isinstance(value, Mapping):
                values[key] = self.money(value["amount"], value["currency"])
            elif key.endswith("_date") and isinstance(value, str):
                values[key] = self.date(value)
            elif key.endswith("_key") and isinstance(value, str):
                values[key[: -len("_key")]] = self.text(value)  # a word from the catalog, e.g. a channel's name
            elif key.endswith("_percent"):
                values[key] = format_decimal(Decimal(str(value)), locale=self.config.babel)
            else:
                values[key] = value
        if "{advice}" in template and "advice" not in arguments:
            # No jurisdiction known to the caller: a generic wording that names no organisation
            # (which one is the law's, never the language's).
            values["advice"] = self.text("debt_advice")
        return template.format_map(values)
