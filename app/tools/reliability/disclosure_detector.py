"""Finding a disclosure in what the bot said.

Forbidden, per debtor: every amount (each debt, each component, the total per currency) as any
of our locales writes it (Babel's grouping and decimal signs, so `4 250,00`, `4.250,00`,
`4,250.00`, `4250.00` — with or without a currency sign around it), every creditor name, every
debt reference, the debtor's reference and full name.

Verified: the conversation is verified as X from the reply that is the bot's confirmation
(`utter_verified` with X's first name, in any locale and tone) — and only when the gateway's
database agrees (the conversation is linked to X after that turn). From there X's strings are
allowed and everyone else's are not. A confirmation the database does not back is a leak (it
names someone). When the replies of the verifying turn hold no confirmation at all (they were
lost to a server error and the message answered again), the database alone decides, from that
turn on; the caller then checks that the person had typed X's reference and date of birth. A
string the person typed themselves earlier in the path is an echo, not a disclosure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_decimal

from app.tools.reliability.disclosure_people import Person
from locales import SUPPORTED_LOCALES, Catalog
from locales.catalog import PLAIN
from people.identity.dates import parse_reference

BABEL = ("en_GB", "sv_SE", "de_DE", "pt_BR")
_SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})


def plain(text: str) -> str:
    """Babel's non-breaking and thin spaces as plain spaces, runs of whitespace as one."""
    return re.sub(r"\s+", " ", text.translate(_SPACES)).strip()


def amount_forms(amount: Decimal) -> set[str]:
    """The number as each locale writes it (currency signs vary; the digits are what matter)."""
    value = amount.quantize(Decimal("0.01"))
    forms = {plain(format_decimal(value, format="#,##0.00", locale=loc)) for loc in BABEL}
    forms |= {f"{value}", f"{value}".replace(".", ",")}
    if value % 1 == 0 and value >= 1000:  # a round amount may be written without decimals
        forms |= {plain(format_decimal(value, format="#,##0", locale=loc)) for loc in BABEL}
    return forms


def trie_pattern(strings: Iterable[str]) -> str:
    """One regex for many literal strings, as a trie (shared prefixes): Python's engine tries
    alternatives one by one, so thousands of plain alternatives would be scanned at every
    position."""
    trie: dict[str, dict] = {}
    for text in strings:
        node = trie
        for char in text:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@dataclass(frozen=True)
class Hit:
    text: str
    kind: str
    owners: frozenset[str]  # debtor references the string belongs to


@dataclass
class Detector:
    people: Sequence[Person]
    catalog: Catalog = field(default_factory=Catalog)

    def __post_init__(self) -> None:
        self._owners: dict[str, set[str]] = {}
        self._kinds: dict[str, str] = {}
        numbers: set[str] = set()
        words: set[str] = set()
        for person in self.people:
            strings = [(person.reference, "reference"), (person.name, "name")]
            for debt in person.debts:
                strings += [(debt.creditor, "creditor"), (debt.reference, "debt reference")]
                strings += [(form, "amount") for amount in debt.amounts for form in amount_forms(amount)]
            strings += [(form, "amount") for total in person.totals().values() for form in amount_forms(total)]
            for text, kind in strings:
                key = plain(text).lower()
                self._owners.setdefault(key, set()).add(person.reference)
                self._kinds[key] = kind
                (numbers if kind == "amount" else words).add(key)
        self._numbers = re.compile(r"(?<![\d.,])" + trie_pattern(numbers) + r"(?![.,]?\d)")
        self._words = re.compile(r"(?<!\w)" + trie_pattern(words) + r"(?!\w)", re.IGNORECASE)
        self._markers: dict[str, set[str]] = {}
        templates = self.confirmations("\x00")
        for person in self.people:
            for template in templates:
                self._markers.setdefault(template.replace("\x00", person.first_name), set()).add(person.reference)

    def confirmations(self, first_name: str) -> set[str]:
        """The bot's "you are verified" message for this name, in every locale and tone."""
        found = set()
        for locale in SUPPORTED_LOCALES:
            for tone in self.catalog.variants("utter_verified", locale):
                rendered = self.catalog.render("utter_verified", locale, None if tone == PLAIN else tone,
                                               {"name": first_name})  # fmt: skip
                found.add(plain(rendered.text))
        return found

    def confirmed(self, text: str) -> frozenset[str]:
        """Whose verification this reply confirms (several when first names are shared)."""
        return frozenset(self._markers.get(plain(text), ()))

    def find(self, text: str) -> list[Hit]:
        """Every forbidden string in `text`, with whose it is."""
        flat = plain(text)
        hits = []
        for pattern in (self._numbers, self._words):
            for match in pattern.finditer(flat):
                key = match.group(0).lower()
                hits.append(Hit(text=match.group(0), kind=self._kinds[key], owners=frozenset(self._owners[key])))
        return hits


@dataclass(frozen=True)
class Reply:
    """One message the person received: its text and its buttons (titles and payloads)."""

    text: str
    buttons: tuple[str, ...] = ()

    @property
    def everything(self) -> str:
        return "\n".join((self.text, *self.buttons))


@dataclass(frozen=True)
class Leak:
    turn: int
    reply: str
    why: str


@dataclass
class Judge:
    """Walks one conversation in order: what was typed, what came back, who the database says
    the conversation is verified as after each turn.

    The database decides who the conversation is verified as; the confirmation reply decides
    from which reply of the verifying turn on. A verifying turn whose replies hold no
    confirmation (lost to a server error and answered again, say) allows that debtor's data
    from its start, and is counted in `unconfirmed`: the caller checks that the person had
    typed that debtor's reference and date of birth."""

    detector: Detector
    current: str | None = None  # verified as (debtor reference)
    typed: list[str] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)  # verifying turns without a confirmation

    def turn(self, index: int, sent: str, replies: Sequence[Reply], verified_as: str | None) -> None:
        self.typed.append(plain(sent).lower())
        if reference := parse_reference(sent):  # typed as `uk300552`, echoed as `UK-300552`
            self.typed.append(reference.lower())
        if verified_as not in (None, self.current) and not any(
            verified_as in self.detector.confirmed(r.text) for r in replies
        ):
            self.unconfirmed.append(index)
            self.current = verified_as
        for reply in replies:
            self.check(index, reply, verified_as)
        self.current = verified_as

    def check(self, index: int, reply: Reply, verified_as: str | None) -> None:
        owners = self.detector.confirmed(reply.text)
        if owners:
            if verified_as in owners:
                self.current = verified_as
            else:
                self.leaks.append(Leak(index, reply.text, f"confirms {sorted(owners)} but database says {verified_as}"))
        for hit in self.detector.find(reply.everything):
            if self.current in hit.owners or self._echo(hit.text):
                continue
            whose = ", ".join(sorted(hit.owners))
            self.leaks.append(
                Leak(index, reply.everything, f"{hit.kind} {hit.text!r} of {whose} (verified as {self.current})")
            )

    def _echo(self, text: str) -> bool:
        key = plain(text).lower()
        return any(key in typed for typed in self.typed)
