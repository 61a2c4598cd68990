"""State and known values that let the fuzzer get past "not found": conversations waiting in the
agent queue and taken by the fuzzing admin, an open dispute, draft experiments, and dictionaries of real locales, text keys, tones, intents, debtor
references and ids. Schemathesis draws a parameter from its dictionary with the given probability
and generates it freely otherwise, so both the happy paths and the refusals are exercised."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.training import versions as training_versions
from core.config import ROOT
from core.database import make_engine, make_sessionmaker
from engine.conversations import service as conversations_service
from engine.experiments import service as experiments_service
from engine.experiments.definitions import Definition, Variant
from handoff import config as handoff_config
from handoff import service as handoff_service
from handoff.models import Reason
from locales import PLAIN, SUPPORTED_LOCALES, TONES, Catalog
from locales.tone import segments as tone_segments
from money.disputes import service as disputes_service
from money.disputes.models import DisputeReason
from people.auth.models import StaffUser
from people.debtors import service as debtors_service

PROBABILITY = 0.5
QUEUED = 3  # conversations waiting for an agent
TAKEN = 3  # conversations the fuzzing admin has taken over (reply, release, resolve succeed)
# Messages with framing variants (engine/experiments/definitions.py: `<message>_<framing>` keys).
FRAMED = {
    "utter_reminder_due_soon": ["utter_reminder_due_soon_loss_aversion", "utter_reminder_due_soon_social_proof"],
    "utter_reminder_promise_due": ["utter_reminder_promise_due_loss_aversion"],
}
VARIANT_KEYS = ["champion", "challenger", "third"]
SMALL_IDS = [1, 2, 3, 4]  # experiments, versions, text versions, debtors, erasures the run creates


@dataclass(frozen=True)
class State:
    conversation_ids: list[str]
    dispute_ids: list[int]


async def _experiments(session: AsyncSession) -> None:
    catalog = Catalog()
    for message, framings in FRAMED.items():
        texts = [message, *framings]
        shares = [100 // len(texts)] * len(texts)
        shares[0] += 100 - sum(shares)
        variants = [Variant(key=VARIANT_KEYS[i], text_key=k, share=shares[i]) for i, k in enumerate(texts)]
        definition = Definition(f"fuzz {message}", message, variants, 7)
        await experiments_service.create(session=session, catalog=catalog, definition=definition)


async def seed_state(database_url: str, *, admin_id: int, model: Path, models_dir: Path) -> State:
    """Queued and taken web chat conversations (one with a dispute on Anna's first debt), draft
    experiments, and an active model version (`model` is a stand-in file: activating it asks Rasa,
    which is not there, so the route must say 503)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            admin = await session.get(StaffUser, admin_id)
            assert admin is not None
            ids = []
            for n in range(QUEUED + TAKEN):
                chat = await conversations_service.get_or_create(
                    session=session, channel="webchat", external_id=f"fuzz-{uuid.uuid4().hex}"
                )
                await session.flush()
                await handoff_service.escalate(
                    session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot"
                )
                if n >= QUEUED:
                    await handoff_service.take(session=session, conversation_id=chat.id, agent=admin)
                ids.append(chat.id)
            await _experiments(session)
            await training_versions.register_repository_model(session=session, model=model, models_dir=models_dir)
            anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
            assert anna is not None
            debt = (await debtors_service.open_debts(session=session, debtor_id=anna.id))[0]
            dispute = await disputes_service.open_dispute(
                session=session, debtor_id=anna.id, debt_id=debt.id, reason=DisputeReason.NOT_MINE,
                conversation_id=ids[0],
            )  # fmt: skip
            await session.commit()
            return State(conversation_ids=ids, dispute_ids=[dispute.id])
    finally:
        await engine.dispose()


def _intents(locale: str = "en") -> list[str]:
    data = yaml.safe_load(Path(ROOT / "bot" / "nlu" / "data" / f"{locale}.yml").read_text())
    return sorted({item["intent"] for item in data.get("nlu", []) if "intent" in item})


def dictionaries(state: State, *, admin_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Schemathesis `dictionaries` and the `parameters` bound to them (by location and name)."""
    catalog = Catalog()
    references = ["SE-100234", "DE-200871", "UK-300552", "BR-400918"]
    values: dict[str, list[Any]] = {
        "locales": list(SUPPORTED_LOCALES),
        "keys": sorted(catalog.keys("en")),
        "messages": list(FRAMED),
        "framings": [k for message, framings in FRAMED.items() for k in (message, *framings)],
        "variant_keys": VARIANT_KEYS,
        "tones": [*TONES, PLAIN],
        "intents": _intents(),
        "references": references,
        "segments": [*tone_segments.DERIVED, "fuzz_segment"],
        "conversations": state.conversation_ids,
        "disputes": state.dispute_ids,
        "ids": SMALL_IDS,
        # Never the fuzzer's own account (the run reactivates it if it happens anyway).
        "users": [i for i in SMALL_IDS if i != admin_id],
        "outcomes": list(handoff_config.load().outcomes),
        "dispute_statuses": ["upheld", "rejected"],
        "channels": ["webchat", "sms", "whatsapp", "telegram"],
    }
    bindings = {
        "path.locale": "locales", "query.locale": "locales", "body.locale": "locales",
        "path.key": "keys", "body.key": "keys", "body.response": "keys",
        "body.message_key": "messages", "body.variants[*].text_key": "framings",
        "body.variants[*].key": "variant_keys", "body.variant": "variant_keys",
        "path.tone": "tones", "body.tone": "tones",
        "body.intent": "intents",
        "path.reference": "references", "body.reference": "references", "body.confirm_reference": "references",
        "query.q": "references",
        "path.segment": "segments", "body.segment": "segments",
        "path.conversation_id": "conversations",
        "path.dispute_id": "disputes",
        "path.experiment_id": "ids", "path.version_id": "ids", "path.debtor_id": "ids", "path.request_id": "ids",
        "query.debtor_id": "ids", "query.experiment": "ids",
        "path.user_id": "users",
        "body.outcome": "outcomes",
        "body.status": "dispute_statuses",
        "query.channel": "channels",
    }  # fmt: skip
    parameters = {key: {"dictionary": name, "probability": PROBABILITY} for key, name in bindings.items()}
    return {name: {"values": entries} for name, entries in values.items()}, parameters
