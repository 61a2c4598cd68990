"""Disclosure fuzz (tools/reliability/disclosure.py): the detector catches what it must (unit),
and a small seeded run through the real stack on every channel and locale leaks nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.tools.reliability import disclosure
from app.tools.reliability.disclosure_channels import Site, started
from app.tools.reliability.disclosure_detector import Detector, Judge, Reply, amount_forms
from app.tools.reliability.disclosure_paths import CHANNELS, KINDS, generate, plan_kinds
from app.tools.reliability.disclosure_people import Owed, Person
from app.tools.reliability.disclosure_phrases import LOCALES
from locales import Catalog
from people.debtors.seed import DEMO
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import MODEL, RASA

catalog = Catalog()


def demo_people() -> list[Person]:
    people = []
    for number, row in enumerate(DEMO, start=1):
        debts = tuple(
            Owed(
                creditor=creditor,
                reference=ref,
                currency=currency,
                amounts=(sum((Decimal(a) for _, a, _ in parts), Decimal(0)), *(Decimal(a) for _, a, _ in parts)),
            )
            for creditor, ref, currency, _, parts in row["debts"]
        )
        people.append(
            Person(
                id=number,
                reference=row["reference"],
                name=row["name"],
                date_of_birth=row["date_of_birth"],
                locale=row["locale"],
                phone=row["phone"],
                debts=debts,
            )
        )
    return people


PEOPLE = demo_people()
DETECTOR = Detector(PEOPLE, catalog)
EMILY, ANNA = "UK-300552", "SE-100234"


def confirmation(name: str, locale: str = "en") -> Reply:
    return Reply(catalog.render("utter_verified", locale, None, {"name": name}).text)


def test_amounts_are_found_however_a_locale_writes_them() -> None:
    assert {"4,250.00", "4 250,00", "4.250,00", "4250.00", "4250,00", "4 250", "4.250", "4,250"} <= amount_forms(
        Decimal("4250")
    )
    for text in ("Du är skyldig 4\xa0250,00\xa0kr", "Total: SEK4,250.00", "R$\xa01.250,00", "408,40 €", "£612.45"):
        assert DETECTOR.find(text), text
    assert not DETECTOR.find("Your reference looks like AB-123456; we opened in 1990 at 14:00.")
    assert not DETECTOR.find("41 250,00 kr or 612.455")  # other numbers that merely contain one


def test_a_reply_with_an_amount_before_verification_is_a_leak() -> None:
    judge = Judge(DETECTOR)
    judge.turn(1, "how much do i owe", [Reply("You owe £612.45 to Northern Water.")], None)
    assert {leak.why.split()[0] for leak in judge.leaks} == {"amount", "creditor"}
    judge = Judge(DETECTOR)
    judge.turn(1, "pay", [Reply("Which one?", ("Pay 1 890,00 kr", '/pay_now{"debt_ref": "NT-7781203"}'))], None)
    assert len(judge.leaks) == 2  # a button title and a payload are replies too


def test_after_verification_own_data_only() -> None:
    judge = Judge(DETECTOR)
    judge.turn(1, "UK-300552", [Reply("And your date of birth?")], None)
    judge.turn(2, "21/07/1992", [confirmation("Emily"), Reply("NW-88214 Northern Water £612.45")], EMILY)
    assert judge.leaks == [] and judge.current == EMILY
    judge.turn(3, "what does anna owe", [Reply("Anna owes 4 250,00 kr")], EMILY)
    assert [leak.why.split()[0] for leak in judge.leaks] == ["amount"]


def test_verified_only_when_the_database_agrees_and_in_that_order() -> None:
    judge = Judge(DETECTOR)  # the data came before the confirmation in the same turn
    judge.turn(1, "21/07/1992", [Reply("£612.45"), confirmation("Emily", "sv")], EMILY)
    assert len(judge.leaks) == 1 and judge.current == EMILY
    judge = Judge(DETECTOR)  # a confirmation the database does not back names someone
    judge.turn(1, "21/07/1992", [confirmation("Anna"), Reply("4 250,00 kr")], None)
    assert len(judge.leaks) == 2 and judge.current is None
    judge = Judge(DETECTOR)  # linked in the database, no confirmation delivered (lost, say)
    judge.turn(1, "21/07/1992", [Reply("£612.45")], EMILY)
    judge.turn(2, "and anna?", [Reply("4 250,00 kr")], EMILY)
    assert judge.unconfirmed == [1] and [leak.turn for leak in judge.leaks] == [2]


def test_what_the_person_typed_is_an_echo() -> None:
    judge = Judge(DETECTOR)
    judge.turn(1, "se100234", [Reply("SE-100234 does not match, sorry.")], None)
    judge.turn(2, "i owe Nordic Telecom AB", [Reply("About Nordic Telecom AB: please verify first.")], None)
    assert judge.leaks == []


def test_paths_cover_every_channel_locale_and_kind() -> None:
    rng = random.Random(3)
    kinds = plan_kinds(160, rng)
    owns = [f"FZ-{n:06d}" for n in range(160)]
    own_people = [
        Person(
            id=100 + n,
            reference=ref,
            name=f"Own Person{n}",
            date_of_birth=PEOPLE[0].date_of_birth.replace(day=1 + n % 28),
            locale="en",
            phone=None,
            debts=(),
        )
        for n, ref in enumerate(owns)
    ]
    paths = generate(count=160, rng=rng, kinds=kinds, people=PEOPLE + own_people, own=owns,
                     victims=[p.reference for p in PEOPLE])  # fmt: skip
    assert {(p.channel, p.locale) for p in paths} == {(c, loc) for c in CHANNELS for loc in LOCALES}
    assert {p.kind for p in paths} >= {"premature", "wrong_birth", "lockout", "verified_then_other", "spoof"}
    assert all(3 <= len(p.steps) <= 8 for p in paths)
    rng = random.Random(3)  # the same seed, the same paths
    again = generate(count=160, rng=rng, kinds=plan_kinds(160, rng), people=PEOPLE + own_people, own=owns,
                     victims=[p.reference for p in PEOPLE])  # fmt: skip
    assert again == paths


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeTwilio, FakeTelegram]) -> Iterator[Site]:
    """A stack of its own: the fuzz locks the demo references (30 minutes per reference), which
    would fail other end-to-end tests sharing the session's stack."""
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    with started(workdir=tmp_path_factory.mktemp("disclosure"), fakes=fakes) as running:
        yield running


# `make reliability` walks FULL_SCALE (1 000) paths; here 32: every channel and locale twice, and
# with this seed every kind of path (the run plans the kinds first, from its seeded generator).
SMALL_RUN, SEED = 32, 11


@pytest.mark.e2e
async def test_a_small_fuzz_leaks_nothing(site: Site, tmp_path: Path) -> None:
    assert set(plan_kinds(SMALL_RUN, random.Random(SEED))) == set(KINDS)
    dump = tmp_path / "leaks.json"
    row = await disclosure.run(scale=SMALL_RUN / disclosure.FULL_SCALE, seed=SEED, site=site, dump=dump)
    assert row.tried == SMALL_RUN
    assert row.leaked == 0, dump.read_text()
    # A turn is lost only when three deliveries of it failed (SQLite busy under load): that
    # narrows the coverage, it discloses nothing.
    assert row.lost <= 2, dump.read_text()
    assert 0 < row.tried - row.rejected < row.tried, row.detail  # some paths verified, most did not
