"""Training examples per locale: the YAML of record + the admins' changes (model versions are in
versions.py).

An admin's change is validated against the effective examples at that moment: the text must be
non-empty, bounded, use only the domain's entities, not duplicate an example of the locale, and
not be in the held-out set (it would leak into the evaluation that judges the new model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.training import data
from backoffice.training.models import MAX_EXAMPLE_CHARS, ChangeOp, ExampleChange
from core.errors import RequestRefused
from locales import SUPPORTED_LOCALES

MIN_EXAMPLES_PER_INTENT = 2  # the classifier needs examples of every intent it knows


class TrainingError(RequestRefused):
    default_status = 422


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    change: ExampleChange | None = None  # the admin's add/edit that produced it; None: from git


def check_locale(locale: str) -> str:
    if locale not in SUPPORTED_LOCALES:
        raise TrainingError("unknown_locale", 404)
    return locale


def check_intent(intent: str, bot_dir: Path = data.BOT_DIR) -> str:
    if intent not in data.trainable_intents(bot_dir):
        raise TrainingError("unknown_intent")
    return intent


def clean_text(text: str, bot_dir: Path = data.BOT_DIR) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if not text or not data.normalise(text):
        raise TrainingError("empty_example")
    if len(text) > MAX_EXAMPLE_CHARS:
        raise TrainingError("example_too_long")
    if text.startswith("/"):  # Rasa reads "/intent" as a payload, not as words
        raise TrainingError("invalid_example")
    if not data.annotated_entities(text) <= data.domain(bot_dir).entities:
        raise TrainingError("unknown_entity")
    return text


def replay(base: dict[str, list[str]], changes: list[ExampleChange]) -> dict[str, list[Example]]:
    """The YAML's examples with the changes applied in order. A change whose target is gone (the
    YAML changed in git since) or whose addition now exists is skipped, never an error."""
    result = {intent: [Example(intent, text) for text in texts] for intent, texts in base.items()}
    keys = {data.normalise(e.text) for examples in result.values() for e in examples}
    for change in changes:
        examples = result.setdefault(change.intent, [])
        if change.op is ChangeOp.ADD:
            if data.normalise(change.text) not in keys:
                examples.append(Example(change.intent, change.text, change))
                keys.add(data.normalise(change.text))
            continue
        target = change.original if change.op is ChangeOp.EDIT else change.text
        index = next((i for i, e in enumerate(examples) if e.text == target), None)
        if index is None:
            continue
        keys.discard(data.normalise(examples[index].text))
        if change.op is ChangeOp.DELETE:
            del examples[index]
        else:
            examples[index] = Example(change.intent, change.text, change)
            keys.add(data.normalise(change.text))
    return result


async def _changes(session: AsyncSession, locale: str | None = None) -> list[ExampleChange]:
    query = select(ExampleChange).order_by(ExampleChange.id)
    if locale is not None:
        query = query.where(ExampleChange.locale == locale)
    return list(await session.scalars(query))


async def effective(*, session: AsyncSession, locale: str, bot_dir: Path = data.BOT_DIR) -> dict[str, list[Example]]:
    """{intent: examples} as the next training will see them, every trainable intent present."""
    check_locale(locale)
    base = data.repository_examples(locale, bot_dir)
    intents = data.trainable_intents(bot_dir)
    replayed = replay({i: base.get(i, []) for i in intents}, await _changes(session, locale))
    return {intent: replayed[intent] for intent in intents}


async def training_data(
    *, session: AsyncSession, bot_dir: Path = data.BOT_DIR
) -> tuple[dict[str, dict[str, list[str]]], int | None]:
    """Every locale's effective examples as text, and the last change they include."""
    examples = {
        locale: {
            i: [e.text for e in ex]
            for i, ex in (await effective(session=session, locale=locale, bot_dir=bot_dir)).items()
        }
        for locale in SUPPORTED_LOCALES
    }
    return examples, await session.scalar(select(func.max(ExampleChange.id)))


def _find(examples: dict[str, list[Example]], intent: str, text: str) -> Example:
    found = next((e for e in examples.get(intent, []) if e.text == text), None)
    if found is None:
        raise TrainingError("example_not_found", 404)
    return found


def _check_new(examples: dict[str, list[Example]], text: str, ignore: str | None = None) -> None:
    key = data.normalise(text)
    taken = {data.normalise(e.text) for ex in examples.values() for e in ex} - {data.normalise(ignore or "")}
    if key in taken:
        raise TrainingError("duplicate_example", 409)
    if key in data.heldout_keys():
        raise TrainingError("heldout_example")


async def _record(session: AsyncSession, change: ExampleChange) -> Example:
    session.add(change)
    await session.flush()
    return Example(change.intent, change.text, change)


async def add_example(
    *, session: AsyncSession, locale: str, intent: str, text: str, staff_id: int | None, bot_dir: Path = data.BOT_DIR
) -> Example:
    check_locale(locale)
    check_intent(intent, bot_dir)
    text = clean_text(text, bot_dir)
    _check_new(await effective(session=session, locale=locale, bot_dir=bot_dir), text)
    change = ExampleChange(locale=locale, intent=intent, op=ChangeOp.ADD, text=text, created_by=staff_id)
    return await _record(session, change)


async def edit_example(
    *,
    session: AsyncSession,
    locale: str,
    intent: str,
    text: str,
    new_text: str,
    staff_id: int | None,
    bot_dir: Path = data.BOT_DIR,
) -> Example:
    check_locale(locale)
    check_intent(intent, bot_dir)
    examples = await effective(session=session, locale=locale, bot_dir=bot_dir)
    _find(examples, intent, text)
    new_text = clean_text(new_text, bot_dir)
    if new_text == text:
        raise TrainingError("unchanged")
    _check_new(examples, new_text, ignore=text)
    change = ExampleChange(
        locale=locale, intent=intent, op=ChangeOp.EDIT, text=new_text, original=text, created_by=staff_id
    )
    return await _record(session, change)


async def delete_example(
    *, session: AsyncSession, locale: str, intent: str, text: str, staff_id: int | None, bot_dir: Path = data.BOT_DIR
) -> None:
    check_locale(locale)
    check_intent(intent, bot_dir)
    examples = await effective(session=session, locale=locale, bot_dir=bot_dir)
    _find(examples, intent, text)
    if len(examples[intent]) <= MIN_EXAMPLES_PER_INTENT:
        raise TrainingError("too_few_examples", 409)
    await _record(
        session, ExampleChange(locale=locale, intent=intent, op=ChangeOp.DELETE, text=text, created_by=staff_id)
    )
