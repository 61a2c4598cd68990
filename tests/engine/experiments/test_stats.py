"""Wilson intervals and the two-proportion test against published values."""

from __future__ import annotations

import pytest

from engine.experiments.stats import MIN_N, compare, difference_interval, two_proportion_p_value, wilson


@pytest.mark.parametrize(
    ("conversions", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I (Wilson, no CC).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_interval_known_values(conversions: int, n: int, low: float, high: float) -> None:
    interval = wilson(conversions, n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_stays_inside_zero_and_one() -> None:
    assert wilson(0, 1).low == 0.0 and wilson(1, 1).high == 1.0
    assert wilson(10, 10).low == pytest.approx(0.7225, abs=5e-5)  # mirror of 0/10 -> [0, 0.2775]
    for n in (1, 2, 7, 50, 1000):
        for x in range(0, n + 1, max(1, n // 7)):
            interval = wilson(x, n)
            assert 0.0 <= interval.low <= x / n <= interval.high <= 1.0


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError):
        wilson(1, 0)
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_two_proportion_p_value_known_values() -> None:
    # 30/100 vs 45/100: chi-square 4.8 on 1 df (R: prop.test(c(30, 45), c(100, 100), correct = FALSE)).
    assert two_proportion_p_value(30, 100, 45, 100) == pytest.approx(0.02846, abs=5e-6)
    assert two_proportion_p_value(45, 100, 30, 100) == pytest.approx(0.02846, abs=5e-6)  # two-sided
    assert two_proportion_p_value(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_p_value(0, 40, 0, 40) == 1.0  # nothing to compare, not a division by zero
    interval = difference_interval(30, 100, 45, 100)
    assert interval.low == pytest.approx(0.15 - 1.959964 * (0.3 * 0.7 / 100 + 0.45 * 0.55 / 100) ** 0.5, abs=1e-6)
    assert interval.low > 0  # agrees with the test: significant at 5 %


def test_not_enough_data_below_the_minimum() -> None:
    small = compare([("neutral", MIN_N - 1, 3), ("loss_aversion", 200, 90)])
    assert [s.enough_data for s in small] == [False, True]
    assert all(s.comparison is None for s in small)  # no verdict while the champion is too small
    assert small[0].interval is not None  # the interval is still shown (it is wide, and says so)
    empty = compare([("neutral", 0, 0), ("social_proof", 0, 0)])
    assert [(s.rate, s.interval) for s in empty] == [(None, None), (None, None)]


def test_challengers_against_the_champion_with_a_split_alpha() -> None:
    neutral, loss, social = compare([("neutral", 1000, 100), ("loss_aversion", 1000, 140), ("social_proof", 1000, 101)])
    assert neutral.comparison is None
    assert loss.comparison is not None and social.comparison is not None
    assert loss.comparison.difference == pytest.approx(0.04)
    assert loss.comparison.p_value < 0.025 and loss.comparison.significant
    assert not social.comparison.significant and social.comparison.p_value > 0.9
    # 0.03 < p < 0.05 is significant with one challenger, not with two (Bonferroni).
    x2 = 130
    p = two_proportion_p_value(100, 1000, x2, 1000)
    assert 0.025 < p < 0.05
    assert compare([("a", 1000, 100), ("b", 1000, x2)])[1].comparison.significant  # type: ignore[union-attr]
    assert not compare([("a", 1000, 100), ("b", 1000, x2), ("c", 1000, 100)])[1].comparison.significant  # type: ignore[union-attr]
