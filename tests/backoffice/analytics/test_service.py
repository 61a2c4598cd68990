"""Dashboard metrics on SQLite and PostgreSQL, on the hand-built history of world.py: exact
numbers per metric, per dimension and per bucket, time-zone and DST bucket edges, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.analytics import service
from backoffice.analytics.metrics import REASONS, Report
from backoffice.analytics.periods import FilterError, parse_filters
from engine.conversations.models import Direction
from engine.experiments.models import Experiment
from tests.backoffice.analytics.world import World, at, build, conversation, message

NOW = datetime(2021, 4, 1, tzinfo=UTC)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build(session)


async def run(session: AsyncSession, **params: Any) -> Report:
    params.setdefault("start_day", date(2021, 3, 1))
    params.setdefault("end_day", date(2021, 3, 7))
    return await service.report(session=session, filters=parse_filters(**params, now=NOW))


def reasons(**counts: int) -> dict[str, int]:
    return {r: counts.get(r, 0) for r in REASONS}


TOTALS: dict[str, Any] = {
    "conversations": 4,
    "contained": 1,
    "containment_rate": 0.25,
    "handoffs": 3,
    "handoff_rate": 0.75,
    "handoff_reasons": reasons(request_human=1, hardship=1, vulnerability=1, fallback=1),
    "verification_attempts": 3,
    "verification_successes": 2,
    "verification_success_rate": 0.6667,
    "verified_conversations": 2,
    "verified_share": 0.5,
    "payments": 2,
    "amount_collected": {"EUR": "349.90", "SEK": "1890.00"},
    "refunds": 1,
    "amount_refunded": {"SEK": "100.00"},
    "plans_created": 5,
    "plans_kept": 2,
    "plans_kept_rate": 0.4,
    "promises_made": 2,
    "promises_judged": 2,
    "promises_kept": 1,
    "promises_kept_rate": 0.5,
    "opt_outs": 2,
}


async def test_totals_follow_the_definitions(session: AsyncSession, world: World) -> None:
    report = await run(session)
    assert report.to_json()["totals"] == TOTALS
    assert report.currencies() == ["EUR", "SEK"]


def pick(metrics: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(metrics[n] for n in names)


async def test_breakdown_by_channel(session: AsyncSession, world: World) -> None:
    rows = {r["value"]: r["metrics"] for r in (await run(session)).to_json()["breakdowns"]["channel"]}
    assert sorted(rows) == ["sms", "telegram", "unknown", "webchat", "whatsapp"]
    names = ("conversations", "handoffs", "verification_attempts", "verified_conversations", "payments")
    assert pick(rows["webchat"], *names) == (2, 2, 2, 1, 0)
    assert rows["webchat"]["handoff_reasons"] == reasons(request_human=1, fallback=1)
    assert pick(rows["webchat"], "plans_created", "plans_kept", "promises_made", "promises_kept") == (1, 0, 1, 1)
    assert pick(rows["sms"], *names) == (1, 0, 1, 1, 1)
    assert rows["sms"]["containment_rate"] == 1.0
    assert rows["sms"]["amount_collected"] == {"SEK": "1890.00"} and rows["sms"]["amount_refunded"] == {"SEK": "100.00"}
    assert pick(rows["sms"], "plans_created", "plans_kept", "promises_judged", "promises_kept_rate") == (2, 1, 1, 0.0)
    assert pick(rows["whatsapp"], *names) == (1, 1, 0, 0, 1)
    assert rows["whatsapp"]["handoff_reasons"] == reasons(hardship=1, vulnerability=1)
    assert rows["whatsapp"]["amount_collected"] == {"EUR": "349.90"}
    assert pick(rows["whatsapp"], "plans_created", "plans_kept", "promises_made", "opt_outs") == (1, 0, 1, 1)
    assert pick(rows["telegram"], "conversations", "opt_outs", "containment_rate") == (0, 1, None)
    assert pick(rows["unknown"], "plans_created", "plans_kept", "conversations") == (1, 1, 0)


async def test_breakdown_by_locale(session: AsyncSession, world: World) -> None:
    rows = {r["value"]: r["metrics"] for r in (await run(session)).to_json()["breakdowns"]["locale"]}
    assert sorted(rows) == ["de", "en", "pt-BR", "sv", "unknown"]
    assert pick(rows["en"], "conversations", "handoffs", "verification_attempts", "plans_created") == (1, 1, 2, 1)
    assert pick(rows["sv"], "conversations", "handoffs", "payments", "plans_kept") == (1, 0, 1, 1)
    assert pick(rows["de"], "conversations", "handoffs", "payments", "promises_made") == (1, 1, 1, 1)
    # c4 has no locale; the unknown WhatsApp number's opt-out and plan3 (no conversation) neither.
    assert pick(rows["unknown"], "conversations", "handoffs", "opt_outs", "plans_created") == (1, 1, 1, 1)
    assert pick(rows["pt-BR"], "conversations", "opt_outs") == (0, 1)


async def test_breakdown_by_variant_of_the_latest_experiment(session: AsyncSession, world: World) -> None:
    data = (await run(session)).to_json()
    assert data["filters"]["experiment"] == world.experiment_id
    assert data["experiments"] == [
        {
            "id": world.experiment_id,
            "name": "First reminder framing",
            "status": "running",
            "variants": ["neutral", "loss_aversion"],
        }
    ]
    rows = {r["value"]: r["metrics"] for r in data["breakdowns"]["variant"]}
    assert sorted(rows) == ["loss_aversion", "neutral", "unassigned"]
    assert pick(rows["neutral"], "conversations", "handoffs", "payments", "plans_created", "promises_judged") == (
        1,
        0,
        1,
        2,
        1,
    )
    assert rows["neutral"]["amount_collected"] == {"SEK": "1890.00"}
    assert pick(rows["loss_aversion"], "conversations", "handoffs", "payments", "plans_created") == (1, 1, 1, 1)
    assert pick(rows["unassigned"], "conversations", "handoffs", "verification_attempts", "opt_outs") == (2, 2, 2, 2)
    assert pick(rows["unassigned"], "plans_created", "plans_kept", "promises_made") == (2, 1, 1)


async def test_daily_series_in_utc(session: AsyncSession, world: World) -> None:
    series = (await run(session)).to_json()["series"]
    assert [s["label"] for s in series] == [f"2021-03-0{d}" for d in range(1, 8)]
    assert series[0]["start"] == "2021-03-01T00:00:00+00:00" and series[0]["end"] == "2021-03-02T00:00:00+00:00"
    by_day = [s["metrics"] for s in series]
    assert [m["conversations"] for m in by_day] == [2, 2, 1, 0, 0, 0, 0]  # c1 on two days, once in the total
    # c4's case on 03-05 has no inbound message that day: not a handoff of that day's conversations.
    assert [m["handoffs"] for m in by_day] == [0, 1, 1, 0, 0, 0, 0]
    assert [m["containment_rate"] for m in by_day] == [1.0, 0.5, 0.0, None, None, None, None]
    assert [m["verification_attempts"] for m in by_day] == [3, 0, 0, 0, 0, 0, 0]
    assert [m["payments"] for m in by_day] == [0, 1, 1, 0, 0, 0, 0]
    assert by_day[2]["amount_collected"] == {"EUR": "349.90"} and by_day[2]["amount_refunded"] == {"SEK": "100.00"}
    assert [m["plans_created"] for m in by_day] == [0, 1, 1, 2, 1, 0, 0]
    assert [m["promises_made"] for m in by_day] == [1, 0, 1, 0, 0, 0, 0]
    assert [m["promises_judged"] for m in by_day] == [0, 0, 0, 0, 1, 1, 0]
    assert [m["opt_outs"] for m in by_day] == [0, 0, 0, 1, 0, 1, 0]


async def test_buckets_follow_the_chosen_time_zone(session: AsyncSession, world: World) -> None:
    """In Stockholm (UTC+1) the range starts at 02-28 23:00 UTC: c5's message at 23:59:59 UTC is
    inside, c2's message at 23:30 UTC on 03-01 is on 03-02, and 03-08 00:00 UTC is still 03-08."""
    report = await run(session, timezone="Europe/Stockholm")
    data = report.to_json()
    assert data["series"][0]["start"] == "2021-02-28T23:00:00+00:00"
    assert [s["metrics"]["conversations"] for s in data["series"]] == [2, 3, 1, 0, 0, 0, 0]
    assert data["totals"]["conversations"] == 5
    assert [s["metrics"]["verification_attempts"] for s in data["series"]][:2] == [2, 1]
    telegram = {r["value"]: r["metrics"] for r in data["breakdowns"]["channel"]}["telegram"]
    assert pick(telegram, "conversations", "contained", "opt_outs") == (1, 1, 1)


async def test_daylight_saving_day_has_23_hours(session: AsyncSession) -> None:
    """Stockholm moved to summer time on 2021-03-28: that day runs 03-27 23:00 to 03-28 22:00 UTC."""
    for n, when in enumerate(
        (at(3, 27, 22, 59), at(3, 27, 23), at(3, 28, 21, 59, 59), at(3, 28, 22), at(3, 29, 21, 59))
    ):
        talk = await conversation(session, "webchat", f"dst-{n}", "sv", None)
        session.add(message(talk, when))
    await session.commit()
    report = await run(session, start_day=date(2021, 3, 27), end_day=date(2021, 3, 29), timezone="Europe/Stockholm")
    series = report.to_json()["series"]
    assert [(s["start"], s["end"]) for s in series] == [
        ("2021-03-26T23:00:00+00:00", "2021-03-27T23:00:00+00:00"),
        ("2021-03-27T23:00:00+00:00", "2021-03-28T22:00:00+00:00"),
        ("2021-03-28T22:00:00+00:00", "2021-03-29T22:00:00+00:00"),
    ]
    assert [s["metrics"]["conversations"] for s in series] == [1, 2, 2]


async def test_weeks_and_months_are_clipped_to_the_range(session: AsyncSession, world: World) -> None:
    weeks = (await run(session, start_day=date(2021, 2, 25), bucket="week")).to_json()["series"]
    assert [(s["label"], s["from"], s["to"]) for s in weeks] == [
        ("2021-02-22", "2021-02-25", "2021-02-28"),
        ("2021-03-01", "2021-03-01", "2021-03-07"),
    ]
    # c5 talked on 02-28 (inside the first week); c1's message of 03-08 is outside the range.
    assert [s["metrics"]["conversations"] for s in weeks] == [1, 4]
    assert [s["metrics"]["promises_made"] for s in weeks] == [0, 2]  # p2 was made on 02-20
    months = (await run(session, start_day=date(2021, 2, 15), end_day=date(2021, 3, 10), bucket="month")).to_json()
    assert [(s["label"], s["from"], s["to"]) for s in months["series"]] == [
        ("2021-02-01", "2021-02-15", "2021-02-28"),
        ("2021-03-01", "2021-03-01", "2021-03-10"),
    ]
    assert [s["metrics"]["conversations"] for s in months["series"]] == [1, 4]
    assert [s["metrics"]["promises_made"] for s in months["series"]] == [1, 2]
    assert months["totals"]["conversations"] == 5


async def test_filters_narrow_every_metric(session: AsyncSession, world: World) -> None:
    sms = (await run(session, channel="sms")).to_json()
    assert pick(sms["totals"], "conversations", "handoffs", "payments", "plans_created", "opt_outs") == (1, 0, 1, 2, 0)
    assert [r["value"] for r in sms["breakdowns"]["channel"]] == ["sms"]
    german = (await run(session, locale="de")).to_json()["totals"]
    assert pick(german, "conversations", "handoffs", "payments", "promises_made") == (1, 1, 1, 1)
    neutral = (await run(session, variant="neutral")).to_json()
    assert pick(neutral["totals"], "conversations", "payments", "plans_created", "promises_judged", "opt_outs") == (
        1,
        1,
        2,
        1,
        0,
    )
    assert [r["value"] for r in neutral["breakdowns"]["variant"]] == ["neutral"]
    unassigned = (await run(session, variant="unassigned", channel="webchat")).to_json()["totals"]
    assert pick(unassigned, "conversations", "handoffs", "verification_attempts") == (2, 2, 2)
    nothing = (await run(session, channel="telegram", locale="sv")).to_json()["totals"]
    assert pick(nothing, "conversations", "opt_outs", "handoff_rate", "amount_collected") == (0, 0, None, {})


async def test_without_experiments_there_is_no_variant_dimension(session: AsyncSession) -> None:
    talk = await conversation(session, "webchat", "no-experiment", "en", None)
    session.add(message(talk, at(3, 2)))
    await session.commit()
    data = (await run(session)).to_json()
    assert data["experiments"] == [] and data["filters"]["experiment"] is None
    assert data["breakdowns"]["variant"] == []
    assert data["totals"]["conversations"] == 1
    with pytest.raises(FilterError, match="unknown_variant"):
        await run(session, variant="neutral")


async def test_experiment_and_variant_choices_are_checked(session: AsyncSession, world: World) -> None:
    with pytest.raises(FilterError, match="unknown_experiment"):
        await run(session, experiment_id=world.experiment_id + 1000)
    with pytest.raises(FilterError, match="unknown_variant"):
        await run(session, variant="social_proof")
    # A draft experiment has no assignments and is not offered; an explicitly chosen one is used.
    session.add(Experiment(name="Draft", message_key="utter_x", variants=[{"key": "a", "text_key": "x", "share": 100}]))
    await session.commit()
    chosen = (await run(session, experiment_id=world.experiment_id)).to_json()
    assert [e["id"] for e in chosen["experiments"]] == [world.experiment_id]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start_day": date(2021, 3, 8), "end_day": date(2021, 3, 7)}, "from_after_to"),
        ({"start_day": date(2020, 1, 1), "end_day": date(2021, 1, 1)}, "range_too_long"),
        ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"timezone": "../etc/passwd"}, "invalid_timezone"),
        ({"timezone": ""}, "invalid_timezone"),
        ({"bucket": "hour"}, "invalid_bucket"),
        ({"channel": "fax"}, "unknown_channel"),
        ({"locale": "fr"}, "unknown_locale"),
        ({"experiment_id": 0}, "unknown_experiment"),
    ],
)
def test_invalid_filters_are_refused(params: dict[str, Any], code: str) -> None:
    params = {"start_day": date(2021, 3, 1), "end_day": date(2021, 3, 7), **params}
    with pytest.raises(FilterError) as raised:
        parse_filters(**params, now=NOW)
    assert raised.value.code == code


def test_default_range_is_the_last_30_local_days() -> None:
    late = datetime(2021, 3, 31, 23, 30, tzinfo=UTC)  # already April 1st in Stockholm
    filters = parse_filters(start_day=None, end_day=None, timezone="Europe/Stockholm", now=late)
    assert (filters.start_day, filters.end_day) == (date(2021, 3, 3), date(2021, 4, 1))
    assert len(filters.buckets()) == 30
    just_from = parse_filters(start_day=date(2021, 3, 20), end_day=None, now=late)
    assert (just_from.start_day, just_from.end_day) == (date(2021, 3, 20), date(2021, 3, 31))
    year = parse_filters(start_day=date(2020, 1, 1), end_day=date(2020, 12, 31), now=late)  # 366 days: allowed
    assert len(year.buckets()) == 366


async def test_outbound_only_conversations_are_not_counted(session: AsyncSession) -> None:
    quiet = await conversation(session, "sms", "+46700000999", "sv", None)
    session.add(message(quiet, at(3, 2), Direction.OUTBOUND))
    await session.commit()
    assert (await run(session)).to_json()["totals"]["conversations"] == 0
