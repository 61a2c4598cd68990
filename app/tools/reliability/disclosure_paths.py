"""Seeded random conversation paths that try to get a debtor's data without being that debtor.

Each path has a channel and a starting locale (every combination in turn), and a kind:

- premature: asks for the balance, to pay, a plan, a promise, a dispute, someone else's debt,
  or presses/typed payloads with made-up entities — and never verifies;
- wrong_reference / wrong_birth: a target's real date of birth with a near-miss reference
  (another digit, another prefix, the creditor's reference), or the real reference with a
  near-miss date (a day off, day and month swapped, another debtor's date, impossible dates);
- cross: one debtor's reference with another's date of birth;
- lockout: three failures, then the correct details of a real debtor (must stay locked);
- switch: the language changes half-way through verification;
- inform_first: reference and date in one message before anything was asked;
- verified_then_other: verifies as its own debtor, then probes someone else's data (their
  details typed, their debt reference in payloads, their name and creditor);
- spoof: writes from a victim's own phone number (SMS, WhatsApp) and asks.

3–8 turns each. Paths that verify get a generated debtor of their own (see disclosure_people).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from app.tools.reliability import disclosure_phrases as ph
from app.tools.reliability.disclosure_people import Person

CHANNELS: tuple[str, ...] = ("webchat", "sms", "whatsapp", "telegram")
KINDS: dict[str, float] = {
    "premature": 0.20,
    "wrong_reference": 0.12,
    "wrong_birth": 0.14,
    "cross": 0.10,
    "lockout": 0.10,
    "switch": 0.10,
    "inform_first": 0.08,
    "verified_then_other": 0.16,
}
NEEDS_OWN = frozenset({"lockout", "switch", "inform_first", "verified_then_other"})
MAX_TURNS, MIN_TURNS = 8, 3


@dataclass(frozen=True)
class Step:
    text: str
    button: bool = False  # a button press (Telegram callback); typed on every other channel


@dataclass(frozen=True)
class Path:
    number: int
    kind: str
    channel: str
    locale: str
    steps: tuple[Step, ...]
    own: str | None = None  # the generated debtor this path may verify as
    phone: str | None = None  # write from this number (spoof), else a fresh one


def plan_kinds(count: int, rng: random.Random) -> list[str]:
    """The kind of each path; decided first, so the debtors they need can be seeded."""
    names, weights = list(KINDS), list(KINDS.values())
    return [rng.choices(names, weights)[0] for _ in range(count)]


class Builder:
    """Writes the turns of one path; the locale can change half-way (switch)."""

    def __init__(self, rng: random.Random, people: dict[str, Person], victims: list[Person]) -> None:
        self.rng = rng
        self.people = people
        self.victims = victims

    # -- pieces --------------------------------------------------------------------------------
    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(list(options))

    def topic(self, locale: str, name: str | None = None) -> Step:
        topics = ph.TOPICS[locale]
        return Step(self.pick(topics[name or self.pick(tuple(topics))]))

    def chatter(self, locale: str) -> Step:
        return Step(self.pick(ph.CHATTER[locale]))

    def reference(self, locale: str, reference: str) -> Step:
        written = ph.written_reference(reference, self.rng.randrange(8))
        return Step(self.pick(ph.REFERENCE[locale]).format(ref=written))

    def birth(self, locale: str, born: date | str) -> Step:
        written = born if isinstance(born, str) else ph.written_date(born, locale, self.rng.randrange(8))
        return Step(self.pick(ph.BIRTH[locale]).format(dob=written))

    def both(self, locale: str, reference: str, born: date | str) -> Step:
        ref, dob = self.reference(locale, reference).text, self.birth(locale, born).text
        return Step(f"{ref} {dob}" if self.rng.random() < 0.7 else f"{dob}, {ref}")

    def payload(self, target: Person, channel: str) -> Step:
        debt_ref = self.pick([d.reference for d in target.debts] or ["all"])
        text = self.pick(ph.PAYLOADS).format(
            debt_ref=debt_ref, ref=target.reference, iso=target.date_of_birth.isoformat()
        )
        return Step(text, button=channel == "telegram" and self.rng.random() < 0.5)

    def other(self, locale: str, target: Person) -> Step:
        creditor = self.pick([d.creditor for d in target.debts] or ["?"])
        return Step(self.pick(ph.OTHERS[locale]).format(name=target.name, creditor=creditor))

    def switch(self, locale: str) -> tuple[Step, str]:
        target = self.pick([loc for loc in ph.LOCALES if loc != locale])
        return Step(ph.SWITCH[locale].format(language=ph.LANGUAGE_NAMES[locale][target])), target

    def digit(self) -> Step:
        return Step(str(self.rng.randint(1, 4)))

    def near_reference(self, person: Person, *, wellformed: bool = False) -> str:
        """A reference like `person`'s that is nobody's (`wellformed`: two letters, six digits)."""
        prefix, _, digits = person.reference.partition("-")
        other = self.rng.choice([p for p in self.people.values() if p.reference != person.reference]).reference
        swapped = digits[1] + digits[0] + digits[2:] if digits[0] != digits[1] else digits[::-1]
        options = [
            f"{prefix}-{digits[:-1]}{(int(digits[-1]) + self.rng.randint(1, 9)) % 10}",
            f"{other.partition('-')[0]}-{digits}",  # another debtor's prefix
            f"{prefix}-{swapped}",
            f"{self.pick(['QX', 'ZZ', 'AB'])}-{self.rng.randint(100000, 999999)}",
        ]
        if not wellformed:
            options += [
                f"{prefix}-{digits[:-1]}",  # a digit short
                f"{prefix}-{digits}{self.rng.randint(0, 9)}",  # a digit too many
                self.pick([d.reference for d in person.debts] or [person.reference + "9"]),  # the creditor's
            ]
        return self.pick([o for o in options if o not in self.people])

    def near_birth(self, person: Person, *, plausible: bool = False) -> date | str:
        """A date of birth like `person`'s that is not theirs (`plausible`: a real past date)."""
        born = person.date_of_birth
        others = [p.date_of_birth for p in self.people.values() if p.date_of_birth != born]
        options: list[date | str] = [
            born + timedelta(days=self.rng.choice((1, -1, 31))),
            born.replace(year=born.year + self.rng.choice((-1, 1))) if born.day != 29 else born + timedelta(days=2),
            self.rng.choice(others),  # another debtor's
        ]
        if born.day <= 12 and born.day != born.month:
            options.append(date(born.year, born.day, born.month))  # day and month swapped
        if not plausible:
            options += ["31/02/" + str(born.year), f"01/01/{date.today().year + 2}", "yesterday"]
        return self.rng.choice([o for o in options if o != born])

    def target(self) -> Person:
        return self.rng.choice(self.victims)

    # -- kinds ---------------------------------------------------------------------------------
    def steps(self, kind: str, channel: str, locale: str, own: Person | None) -> list[Step]:
        rng, target = self.rng, self.target()
        opening = [self.chatter(locale)] if rng.random() < 0.4 else []
        if kind == "premature":
            asks = [
                lambda: self.topic(locale),
                lambda: self.payload(target, channel),
                lambda: self.other(locale, target),
                lambda: self.chatter(locale),
                lambda: self.digit() if channel in ("sms", "whatsapp") else self.topic(locale),
            ]
            return opening + [self.topic(locale)] + [rng.choice(asks)() for _ in range(rng.randint(2, 5))]
        if kind == "wrong_reference":
            steps = [*opening, self.topic(locale), self.reference(locale, self.near_reference(target))]
            steps.append(self.birth(locale, target.date_of_birth))
            if rng.random() < 0.5:
                steps += [self.reference(locale, self.near_reference(target)), self.birth(locale, target.date_of_birth)]
            return [*steps, self.topic(locale, "balance")]
        if kind == "wrong_birth":
            steps = [*opening, self.topic(locale), self.reference(locale, target.reference)]
            steps.append(self.birth(locale, self.near_birth(target)))
            if rng.random() < 0.5:
                steps += [self.reference(locale, target.reference), self.birth(locale, self.near_birth(target))]
            return [*steps, rng.choice([self.topic(locale, "balance"), self.payload(target, channel)])]
        if kind == "cross":
            other = rng.choice([v for v in self.victims if v.date_of_birth != target.date_of_birth])
            steps = [
                self.topic(locale),
                self.reference(locale, target.reference),
                self.birth(locale, other.date_of_birth),
            ]
            if rng.random() < 0.5:
                steps += [self.reference(locale, other.reference), self.birth(locale, target.date_of_birth)]
            return [*steps, self.topic(locale, "balance"), self.other(locale, target)]
        assert own is not None, kind
        if kind == "lockout":
            # Three failures that count (no reference another path may have locked already),
            # answering what the form asks (reference, then date of birth); then the right
            # details, which must change nothing: this chat is locked.
            wrong = [(self.near_reference(own, wellformed=True), own.date_of_birth),
                     (own.reference, self.near_birth(own, plausible=True)),
                     (self.near_reference(target, wellformed=True), target.date_of_birth)]  # fmt: skip
            rng.shuffle(wrong)
            steps = [step for ref, born in wrong for step in (self.reference(locale, ref), self.birth(locale, born))]
            return [*steps, self.reference(locale, own.reference), self.birth(locale, own.date_of_birth)]
        if kind == "switch":
            honest = rng.random() < 0.5
            person = own if honest else target
            born = own.date_of_birth if honest else self.near_birth(target)
            change, new = self.switch(locale)
            steps = [self.topic(locale), self.reference(locale, person.reference), change]
            return [*steps, self.birth(new, born), self.topic(new), self.other(new, target)]
        if kind == "inform_first":
            honest = rng.random() < 0.5
            person = own if honest else target
            born = own.date_of_birth if honest else self.near_birth(target)
            return [
                *opening,
                self.both(locale, person.reference, born),
                self.topic(locale),
                self.payload(target, channel),
            ]
        # verified_then_other: maybe a slip first, then its own details, then someone else's data.
        steps = [self.topic(locale), self.reference(locale, own.reference)]
        if rng.random() < 0.3:
            steps += [self.birth(locale, self.near_birth(own)), self.reference(locale, own.reference)]
        steps.append(self.birth(locale, own.date_of_birth))
        probes = [
            lambda: self.both(locale, target.reference, target.date_of_birth),
            lambda: self.payload(target, channel),
            lambda: self.other(locale, target),
            lambda: self.topic(locale),
            lambda: Step(self.pick([d.reference for d in target.debts])),
        ]
        return steps + [rng.choice(probes)() for _ in range(rng.randint(1, MAX_TURNS - len(steps)))]

    def path(self, number: int, kind: str, channel: str, locale: str, own: Person | None) -> Path:
        steps = self.steps(kind, channel, locale, own)[:MAX_TURNS]
        while len(steps) < MIN_TURNS:
            steps.append(self.chatter(locale))
        return Path(number=number, kind=kind, channel=channel, locale=locale, steps=tuple(steps),
                    own=own.reference if own else None)  # fmt: skip


def generate(
    *, count: int, rng: random.Random, kinds: list[str], people: list[Person], own: list[str], victims: list[str]
) -> list[Path]:
    """`count` paths: channel and locale in turn (every combination equally often), kinds as
    planned, one own debtor for each path that needs one, spoofed phone numbers where they fit."""
    by_reference = {p.reference: p for p in people}
    builder = Builder(rng, by_reference, [by_reference[r] for r in victims])
    owned = iter(own)
    spoofable = [p for p in people if p.reference in victims and p.phone]
    spoofed: set[tuple[str, str]] = set()
    paths = []
    for number, kind in enumerate(kinds[:count]):
        channel = CHANNELS[number % len(CHANNELS)]
        locale = ph.LOCALES[(number // len(CHANNELS)) % len(ph.LOCALES)]
        person = by_reference[next(owned)] if kind in NEEDS_OWN else None
        path = builder.path(number, kind, channel, locale, person)
        if kind == "premature" and channel in ("sms", "whatsapp"):
            # The first time a victim's number fits: write from it (nobody verified on it).
            for victim in spoofable:
                if (victim.reference, channel) not in spoofed:
                    spoofed.add((victim.reference, channel))
                    path = replace(path, kind="spoof", phone=victim.phone)
                    break
        paths.append(path)
    return paths
