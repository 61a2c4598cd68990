"""The export back on SQLite and PostgreSQL: every event type shows up once it happened and not in
a window before it; consecutive windows repeat and miss nothing at their boundary; text cells a
spreadsheet would run are neutralised; an opt-out names its channel, never the number."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Window
from people.portfolio import activity
from tests.people.portfolio.activity_data import HOUR, PHONE, Scenario, every_event

EVERY = {
    "plan_agreed", "promise_made", "dispute_opened", "dispute_resolved", "hardship_hold_started",
    "hardship_hold_ended", "opt_out", "payment", "plan_completed", "refund", "promise_kept", "promise_broken",
}  # fmt: skip


async def mine(session: AsyncSession, scenario: Scenario, since: object, until: object) -> list[activity.Row]:
    window = activity.window(since, until)  # type: ignore[arg-type]
    return [r for r in await activity.rows(session=session, window=window) if r.creditor == scenario.creditor]


async def test_every_event_type_after_it_happened(session: AsyncSession) -> None:
    s = await every_event(session)
    found = await mine(session, s, s.since, s.until)
    assert {r.event for r in found} == EVERY
    first, second = s.references
    by = Counter((r.event, r.reference) for r in found)
    assert by[("plan_agreed", first)] == by[("plan_completed", first)] == 1 and by[("plan_agreed", second)] == 0
    assert (
        by[("dispute_opened", second)] == by[("dispute_resolved", second)] == 1 and by[("dispute_opened", first)] == 0
    )
    for debtor_wide in ("promise_made", "opt_out", "hardship_hold_started", "hardship_hold_ended"):
        assert by[(debtor_wide, first)] >= 1 and by[(debtor_wide, second)] >= 1, debtor_wide  # every debt of theirs
    rows = {r.event: r for r in found}
    assert (rows["payment"].reference, rows["payment"].amount, rows["payment"].currency) == (first, s.paid, "SEK")
    assert (rows["refund"].reference, rows["refund"].amount) == (first, s.refunded)
    assert rows["plan_agreed"].amount == s.plan_total and rows["plan_agreed"].detail.endswith("monthly x1")
    assert rows["dispute_opened"].detail.endswith("already_paid") and rows["dispute_resolved"].detail.endswith(
        "rejected"
    )
    assert (rows["opt_out"].channel, rows["opt_out"].detail, rows["opt_out"].amount) == ("sms", "keyword:STOP", "")
    assert all(s.since <= r.occurred_at < s.until for r in found)
    # Nothing before it happened: the day before, nothing; the first hour, nothing; then the plan alone.
    assert await mine(session, s, s.since - timedelta(days=1), s.since) == []
    assert await mine(session, s, s.since, s.since + HOUR) == []
    assert {r.event for r in await mine(session, s, s.since, s.since + 2 * HOUR)} == {"plan_agreed"}


async def test_consecutive_windows_repeat_and_miss_nothing(session: AsyncSession) -> None:
    s = await every_event(session)
    whole = await mine(session, s, s.since, s.until)
    # Cut exactly at events (the plan at +1h, the dispute at +3h, its end at +4h) and between them.
    cuts = [s.since, s.since + HOUR, s.since + 3 * HOUR, s.since + 4 * HOUR, s.since + 5 * HOUR + timedelta(minutes=1)]
    cuts += [s.since + timedelta(days=1), s.until]  # the real-time events (payment, opt-out) come after +1 day
    pieces = [await mine(session, s, a, b) for a, b in itertools.pairwise(cuts)]
    assert Counter(r for piece in pieces for r in piece) == Counter(whole) and len(whole) == sum(map(len, pieces))
    assert {r.event for r in pieces[1]} == {"plan_agreed", "promise_made"}  # +1h belongs to the later window
    assert {r.event for r in pieces[2]} == {"dispute_opened"}


async def test_formula_like_cells_are_neutralised_and_no_phone_number(session: AsyncSession) -> None:
    s = await every_event(session, creditor='=HYPERLINK("http://evil.example","x")', source="@SUM(1+1)")
    found = await mine(session, s, s.since, s.until)
    text = activity.to_csv(found)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == list(activity.COLUMNS) and len(lines) == len(found) + 1
    assert {line[1] for line in lines[1:]} == {"'" + s.creditor}
    assert "'@SUM(1+1)" in {line[7] for line in lines[1:]}
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for line in lines[1:] for cell in line)
    assert PHONE not in text and "070" not in text and "paid it in March" not in text


def test_cells_rules() -> None:
    at = Window(activity.moment("2026-05-01"), activity.moment("2026-05-02")).since
    row = activity.Row(at, "+Creditor", "-12", "payment", "1.00", "SEK", "", "\tx", 1)
    assert row.cells() == ["2026-05-01T00:00:00.000000Z", "'+Creditor", "'-12", "payment", "1.00", "SEK", "", "'\tx"]
    assert activity.moment("2026-05-01T02:00:00+02:00") == at
