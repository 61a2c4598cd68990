"""Pay now without Stripe keys and without the opt-in sandbox: the person is told card payment is
not available here and offered a plan, a promise or a person; with PAYMENTS_SANDBOX the link is
the sandbox's (hand-built Tracker + CollectingDispatcher, SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import payments as payment_actions
from bot.actions.payments import ActionPayNow
from bot.actions.settings import ActionSettings
from locales import Catalog
from payments.models import Payment
from tests.bot.actions.conftest import make_tracker, responses, verified
from tests.fakes.stripe_server import FakeStripe

ROOT = Path(__file__).resolve().parents[3]
OPTIONS = ["/request_payment_plan", "/promise_to_pay", "/request_human"]


def use(monkeypatch: pytest.MonkeyPatch, **values: object) -> None:
    settings = ActionSettings(_env_file=None, stripe_secret_key=None, stripe_webhook_secret=None, **values)  # type: ignore[call-arg]
    monkeypatch.setattr(payment_actions, "get_settings", lambda: settings)


async def payments_of(session: AsyncSession, debtor_id: int) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Payment).where(Payment.debtor_id == debtor_id)) or 0
    )


@pytest.mark.parametrize("locale", ["en", "sv", "de", "pt-BR"])
async def test_no_keys_no_flag_offers_a_plan_a_promise_or_a_person(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    use(monkeypatch, payments_sandbox=False)
    sid, emily = await verified(session, "UK-300552")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, text="I want to pay", intent="pay_now", slots={"verified": True}, locale=locale)
    await ActionPayNow().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_card_payment_unavailable"]
    assert await payments_of(session, emily.id) == 0  # no link, nothing to "pay" in a sandbox

    rendered = Catalog().render("utter_card_payment_unavailable", locale, None, {})
    assert [b.payload for b in rendered.buttons] == OPTIONS
    assert all(b.title.strip() for b in rendered.buttons) and "{" not in rendered.text
    for tone in ("empathetic", "formal"):
        assert Catalog().render("utter_card_payment_unavailable", locale, tone, {}).text != ""


def test_the_options_are_intents_the_bot_handles() -> None:
    core = yaml.safe_load((ROOT / "bot" / "domain" / "core.yml").read_text(encoding="utf-8"))
    rules = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "data").glob("*.yml"))
    for payload in OPTIONS:
        intent = payload.removeprefix("/")
        assert intent in core["intents"]
        assert f"intent: {intent}" in rules


async def test_with_the_flag_the_link_is_the_sandbox(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, payments_sandbox=True, public_base_url="http://gateway.test")
    sid, emily = await verified(session, "UK-300552")
    dispatcher = CollectingDispatcher()
    await ActionPayNow().run(dispatcher, make_tracker(sid, text="pay", intent="pay_now", slots={"verified": True}), {})
    assert responses(dispatcher) == ["utter_payment_link"]
    assert dispatcher.messages[0]["url"].startswith("http://gateway.test/payments/sandbox/checkout/cs_sandbox_")
    assert await payments_of(session, emily.id) == 1


async def test_with_stripe_keys_the_flag_is_not_needed(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeStripe() as fake, fake.installed():
        use(monkeypatch, payments_sandbox=False, stripe_api_base=fake.url)
        settings = payment_actions.get_settings()
        settings.stripe_secret_key = SecretStr("sk_test_123")
        sid, _ = await verified(session, "UK-300552")
        dispatcher = CollectingDispatcher()
        await ActionPayNow().run(
            dispatcher, make_tracker(sid, text="pay", intent="pay_now", slots={"verified": True}), {}
        )
    assert responses(dispatcher) == ["utter_payment_link"]
    assert dispatcher.messages[0]["url"] == fake.sessions[next(iter(fake.sessions))]["url"]
