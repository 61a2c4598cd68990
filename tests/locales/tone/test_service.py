"""Validation, versioning and rollback of admins' texts and tone defaults (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from locales import Catalog
from locales.tone import service
from locales.tone.models import VersionAction
from locales.tone.service import ToneError

catalog = Catalog()


@pytest.mark.parametrize(
    ("text", "missing", "unknown"),
    [
        ("Call us before {until} please.", [], []),
        ("Call us soon.", ["until"], []),
        ("Call us before {until}, {name}.", [], ["name"]),
        ("Call {name} soon.", ["until"], ["name"]),
    ],
)
def test_placeholders_must_be_exactly_the_files(text: str, missing: list[str], unknown: list[str]) -> None:
    key = "utter_handoff_offline"
    assert service.placeholders(catalog.default_text(key, "en", "formal")) == {"until"}
    if not missing and not unknown:
        assert service.validate(catalog, locale="en", key=key, tone="formal", text=text).text == text
        return
    with pytest.raises(ToneError) as caught:
        service.validate(catalog, locale="en", key=key, tone="formal", text=text)
    assert caught.value.status == 422
    assert caught.value.detail == {
        "code": "placeholders",
        "missing": missing,
        "unknown": unknown,
        "expected": ["until"],
    }


@pytest.mark.parametrize(
    ("locale", "key", "tone", "text", "code", "status"),
    [
        ("fr", "utter_greet", "formal", "Bonjour", "unknown_locale", 404),
        ("pt", "utter_greet", "formal", "Olá", "unknown_locale", 404),  # exact codes only: pt-BR
        ("en", "utter_nope", "formal", "Hi", "unknown_key", 404),
        ("en", "utter_greet", "plain", "Hi", "unknown_tone", 404),  # utter_greet has two tones
        ("en", "channel_name_sms", "formal", "SMS", "unknown_tone", 404),  # a plain text has one
        ("en", "utter_greet", "formal", "   ", "empty_text", 422),
        ("en", "utter_greet", "formal", "x" * (service.MAX_TEXT_CHARS + 1), "too_long", 422),
        ("en", "utter_greet", "formal", "Hi {", "malformed_placeholder", 422),
        ("en", "utter_greet", "formal", "Hi {0}", "malformed_placeholder", 422),
        ("en", "utter_greet", "formal", "Hi {x.y}", "malformed_placeholder", 422),
        ("en", "utter_too_long", "formal", "Max {limit:>5}", "malformed_placeholder", 422),
        ("en", "utter_greet", "formal", "Hi\x07", "control_characters", 422),
    ],
)
def test_bad_input_is_refused_clearly(locale: str, key: str, tone: str, text: str, code: str, status: int) -> None:
    with pytest.raises(ToneError) as caught:
        service.validate(catalog, locale=locale, key=key, tone=tone, text=text)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_button_titles_keep_the_files_payloads() -> None:
    defaults = catalog.default_buttons("utter_greet", "en")
    titles = [f"Option {i}" for i in range(len(defaults))]
    wording = service.validate(catalog, locale="en", key="utter_greet", tone="formal", text="Good day.", buttons=titles)
    assert wording.buttons == tuple(zip(titles, [b["payload"] for b in defaults], strict=True))
    for bad, code in (
        (titles[:-1], "buttons"),
        ([*titles[:-1], " "], "button_title"),
        (["x" * 65] * 4, "button_title"),
    ):
        with pytest.raises(ToneError) as caught:
            service.validate(catalog, locale="en", key="utter_greet", tone="formal", text="Good day.", buttons=bad)
        assert (caught.value.code, caught.value.status) == (code, 422)
    with pytest.raises(ToneError):  # no buttons in the file: none can be added
        service.validate(catalog, locale="en", key="utter_goodbye", tone="formal", text="Bye.", buttons=["Again"])


async def test_every_change_is_a_version_and_rollback_is_recorded(session: AsyncSession) -> None:
    args: dict[str, Any] = {
        "session": session, "catalog": catalog, "locale": "de", "key": "utter_goodbye", "tone": "empathetic",
    }  # fmt: skip
    first = await service.save_text(**args, text="Bis bald!", author_id=None)
    second = await service.save_text(**args, text="Tschüss und alles Gute!", author_id=None)
    reset = await service.reset_text(**args, author_id=None)
    back = await service.rollback_text(session=session, catalog=catalog, version_id=first.id, author_id=None)
    history = await service.text_history(session=session, locale="de", key="utter_goodbye", tone="empathetic")
    assert [v.id for v in history] == [back.id, reset.id, second.id, first.id]
    assert [v.action for v in history] == [
        VersionAction.ROLLBACK, VersionAction.RESET, VersionAction.EDIT, VersionAction.EDIT,
    ]  # fmt: skip
    assert (back.text, back.restored_from_id) == ("Bis bald!", first.id)
    assert reset.text is None  # the file's wording, whatever it says by then
    # Older versions are untouched: history is immutable.
    assert (first.text, second.text) == ("Bis bald!", "Tschüss und alles Gute!")
    latest = await service.latest_texts(session=session, locale="de")
    assert latest[("de", "utter_goodbye", "empathetic")].id == back.id
    loaded = await service.load(session=session)
    assert loaded.texts[("de", "utter_goodbye", "empathetic")].text == "Bis bald!"
    # Rolling back to the reset brings the file's text back (and is itself a version).
    again = await service.rollback_text(session=session, catalog=catalog, version_id=reset.id, author_id=None)
    assert again.text is None and again.action is VersionAction.ROLLBACK
    assert ("de", "utter_goodbye", "empathetic") not in (await service.load(session=session)).texts


async def test_rollback_is_checked_against_todays_file(session: AsyncSession) -> None:
    old = await service.save_text(
        session=session, catalog=catalog, locale="en", key="utter_goodbye", tone="formal", text="Bye.", author_id=None
    )
    changed = Catalog()
    changed.default_text = lambda key, locale, tone=None: "Goodbye, {name}."  # type: ignore[method-assign]
    with pytest.raises(ToneError) as caught:
        await service.rollback_text(session=session, catalog=changed, version_id=old.id, author_id=None)
    assert caught.value.detail == {"code": "placeholders", "missing": ["name"], "unknown": [], "expected": ["name"]}
    with pytest.raises(ToneError) as missing:
        await service.rollback_text(session=session, catalog=catalog, version_id=2**31 - 1, author_id=None)
    assert (missing.value.code, missing.value.status) == ("unknown_version", 404)


async def test_stamp_changes_with_every_version(session: AsyncSession) -> None:
    before = await service.stamp(session=session)
    await service.set_tone(session=session, locale="sv", segment=None, tone="formal", author_id=None)
    after_tone = await service.stamp(session=session)
    await service.reset_text(
        session=session, catalog=catalog, locale="sv", key="utter_greet", tone="formal", author_id=None
    )
    assert len({before, after_tone, await service.stamp(session=session)}) == 3


async def test_tone_defaults_are_versioned(session: AsyncSession) -> None:
    chosen = await service.set_tone(session=session, locale="en", segment=None, tone="formal", author_id=None)
    segment = await service.set_tone(session=session, locale="en", segment="Business ", tone="formal", author_id=None)
    cleared = await service.set_tone(session=session, locale="en", segment=None, tone=None, author_id=None)
    assert segment.segment == "business" and cleared.action is VersionAction.RESET
    loaded = await service.load(session=session)
    assert "en" not in loaded.locale_tones and loaded.segment_tones[("en", "business")] == "formal"
    back = await service.rollback_tone(session=session, version_id=chosen.id, author_id=None)
    assert (back.tone, back.action, back.restored_from_id) == ("formal", VersionAction.ROLLBACK, chosen.id)
    assert (await service.load(session=session)).locale_tones["en"] == "formal"
    history = await service.tone_history(session=session, locale="en")
    assert [v.id for v in history][:4] == [back.id, cleared.id, segment.id, chosen.id]
    for locale, segment_name, tone, code, status in (
        ("xx", None, "formal", "unknown_locale", 404),
        ("en", None, "casual", "unknown_tone", 422),
        ("en", "no spaces!", "formal", "invalid_segment", 422),
    ):
        with pytest.raises(ToneError) as caught:
            await service.set_tone(session=session, locale=locale, segment=segment_name, tone=tone, author_id=None)
        assert (caught.value.code, caught.value.status) == (code, status)
