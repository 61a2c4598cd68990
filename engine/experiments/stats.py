"""Conversion statistics per variant: pure functions, no database.

Wilson score intervals (honest near 0 % and 100 % and for small n, unlike the Wald interval) and a
pooled two-proportion z-test of each challenger against the champion (the first variant). With
several challengers the significance level is split between them (Bonferroni), so running three
variants does not make a false winner more likely than running two. Below `MIN_N` assignments
per arm nothing is called significant: the answer is "not enough data".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)  # 1.95996...
ALPHA = 0.05
MIN_N = 30  # per variant, before a comparison is reported at all


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """A challenger against the champion."""

    difference: float  # challenger rate - champion rate
    interval: Interval  # 95 % (unpooled) interval of the difference
    p_value: float  # two-sided
    significant: bool  # p below ALPHA / number of challengers


@dataclass(frozen=True)
class VariantStats:
    key: str
    n: int
    conversions: int
    rate: float | None  # None when nobody was assigned
    interval: Interval | None
    enough_data: bool
    comparison: Comparison | None  # None for the champion, or when there is not enough data


def wilson(conversions: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval for a binomial proportion."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= conversions <= n:
        raise ValueError("conversions must be between 0 and n")
    p = conversions / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 (or n) conversions the bound is exactly 0 (or 1); don't let float noise say otherwise.
    low = 0.0 if conversions == 0 else max(0.0, centre - half)
    high = 1.0 if conversions == n else min(1.0, centre + half)
    return Interval(low=low, high=high)


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled z-test for p1 == p2."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one observation")
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # both all-converted or both none: no evidence of a difference
    z = (x2 / n2 - x1 / n1) / se
    return math.erfc(abs(z) / math.sqrt(2))


def difference_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """Wald interval of p2 - p1 (reported next to the test, for the size of the effect)."""
    p1, p2 = x1 / n1, x2 / n2
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Interval(low=p2 - p1 - half, high=p2 - p1 + half)


def compare(counts: list[tuple[str, int, int]], *, min_n: int = MIN_N, alpha: float = ALPHA) -> list[VariantStats]:
    """`counts` = [(variant key, n, conversions)], champion first. One VariantStats per variant."""
    if not counts:
        return []
    _champion_key, champion_n, champion_x = counts[0]
    challengers = max(1, len(counts) - 1)
    result = []
    for index, (key, n, conversions) in enumerate(counts):
        enough = n >= min_n
        comparison = None
        if index > 0 and enough and champion_n >= min_n:
            p_value = two_proportion_p_value(champion_x, champion_n, conversions, n)
            comparison = Comparison(
                difference=conversions / n - champion_x / champion_n,
                interval=difference_interval(champion_x, champion_n, conversions, n),
                p_value=p_value,
                significant=p_value < alpha / challengers,
            )
        result.append(
            VariantStats(
                key=key,
                n=n,
                conversions=conversions,
                rate=conversions / n if n else None,
                interval=wilson(conversions, n) if n else None,
                enough_data=enough,
                comparison=comparison,
            )
        )
    return result
