"""Admins' changes reach every process's catalog without a restart, and the catalog still works
without a database."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from locales import Button, Catalog, Overrides, TextOverride
from locales.tone import service
from locales.tone.overrides import ToneOverrides

files = Catalog()
TTL = 0.06  # seconds a process trusts its cached overrides


async def test_an_edit_reaches_another_process_within_a_second(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    # Two processes: each its own catalog and its own database layer (its own cache).
    # A short cache time (production's is longer): each wait below only has to outlast it.
    gateway = Catalog(overrides=ToneOverrides(committed, ttl=TTL))
    worker = Catalog(overrides=ToneOverrides(committed, ttl=TTL))
    await gateway.refresh()
    await worker.refresh()
    original = files.text("utter_goodbye", "en", "empathetic")
    assert worker.text("utter_goodbye", "en") == original

    async with committed() as session:
        version = await service.save_text(
            session=session, catalog=files, locale="en", key="utter_goodbye", tone="empathetic",
            text="Take care, talk soon!", author_id=None,
        )  # fmt: skip
        await session.commit()
    await asyncio.sleep(TTL * 1.5)  # the cached snapshot is now older than the cache time
    await worker.refresh()
    assert worker.text("utter_goodbye", "en") == "Take care, talk soon!"
    assert worker.render("utter_goodbye", "en").text == "Take care, talk soon!"
    assert worker.text("utter_goodbye", "en", "formal") == files.text("utter_goodbye", "en", "formal")
    assert worker.text("utter_goodbye", "sv") == files.text("utter_goodbye", "sv")

    # A synchronous render (no await) starts the check itself; a moment later it has the change.
    async with committed() as session:
        await service.rollback_text(session=session, catalog=files, version_id=version.id, author_id=None)
        await session.commit()
    await asyncio.sleep(TTL * 1.5)  # the cached snapshot is now older than the cache time
    assert gateway.text("utter_goodbye", "en") == original  # stale: this render kicked off the check
    for _ in range(100):
        await asyncio.sleep(0.02)
        if gateway.text("utter_goodbye", "en") != original:
            break
    assert gateway.text("utter_goodbye", "en") == "Take care, talk soon!"


async def test_a_database_outage_keeps_the_last_snapshot(committed: async_sessionmaker[AsyncSession]) -> None:
    async with committed() as session:
        await service.save_text(
            session=session, catalog=files, locale="de", key="utter_goodbye", tone="empathetic", text="Servus!",
            author_id=None,
        )  # fmt: skip
        await session.commit()
    layer = ToneOverrides(committed, ttl=0)
    catalog = Catalog(overrides=layer)
    await catalog.refresh()
    assert catalog.text("utter_goodbye", "de") == "Servus!"

    def broken() -> AsyncSession:
        raise OSError("database unreachable")

    layer.sessionmaker = broken  # type: ignore[assignment]
    await catalog.refresh()
    assert catalog.text("utter_goodbye", "de") == "Servus!"


def test_without_a_database_the_files_decide() -> None:
    catalog = Catalog()
    assert catalog.overrides is None
    assert catalog.default_tone("en") == "empathetic"
    assert catalog.text("utter_greet", "en") == catalog.default_text("utter_greet", "en", "empathetic")
    assert catalog.segment_tone("en", ["vulnerable", "new"]) is None
    assert catalog.variants("utter_greet", "en") == ("empathetic", "formal")
    assert catalog.variants("channel_name_sms", "en") == ("plain",)


def test_a_draft_renders_like_the_bot_would() -> None:
    draft = TextOverride(text="Pay {amount_money} by {due_date}, please.")
    rendered = files.render(
        "utter_promise_recorded", "de", "formal",
        {"amount_money": {"amount": "1234.5", "currency": "EUR"}, "due_date": "2026-12-24"}, draft=draft,
    )  # fmt: skip
    assert rendered.text.replace("\xa0", " ") == "Pay 1.234,50 € by 24.12.2026, please."


class Static:
    """An override source with fixed contents."""

    def __init__(self, overrides: Overrides) -> None:
        self.overrides = overrides

    def current(self) -> Overrides:
        return self.overrides

    async def refresh(self, *, force: bool = False) -> Overrides:
        return self.overrides


def test_tone_order_explicit_then_segment_then_locale_default() -> None:
    catalog = Catalog(
        overrides=Static(
            Overrides(
                locale_tones={"sv": "formal"},
                segment_tones={("sv", "vulnerable"): "empathetic", ("sv", "business"): "formal"},
                texts={("sv", "utter_greet", "formal"): TextOverride("God dag.", (("Saldo", "/check_balance"),) * 4)},
            )
        )
    )
    assert catalog.default_tone("sv") == "formal" and catalog.default_tone("de") == "empathetic"
    assert catalog.text("utter_greet", "sv") == "God dag."  # the admin's locale default, and their wording
    assert catalog.render("utter_greet", "sv").buttons[0] == Button(title="Saldo", payload="/check_balance")
    assert catalog.text("utter_greet", "sv", "empathetic") == files.text("utter_greet", "sv", "empathetic")
    # Segments, most important first: the first with a tone wins.
    assert catalog.segment_tone("sv", ["vulnerable", "business", "new"]) == "empathetic"
    assert catalog.segment_tone("sv", ["business", "new"]) == "formal"
    assert catalog.segment_tone("sv", ["new"]) is None
    assert catalog.segment_tone("de", ["vulnerable"]) is None
    assert catalog.segment_tones("sv") == {"vulnerable": "empathetic", "business": "formal"}


def test_an_unreadable_stored_wording_falls_back_to_the_file() -> None:
    catalog = Catalog(overrides=Static(Overrides(texts={("en", "utter_goodbye", "empathetic"): TextOverride("Bye {")})))
    assert catalog.render("utter_goodbye", "en").text == files.text("utter_goodbye", "en")
