"""The few statistics the reports use: Wilson intervals, a two-proportion z-test, Holm's method."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()
Z_95 = _NORMAL.inv_cdf(0.975)


@dataclass(frozen=True)
class Interval:
    """A proportion's lower and upper confidence bounds (both between 0 and 1)."""

    low: float
    high: float


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> Interval | None:
    """The Wilson score interval for ``successes / trials`` (None when there are no trials).

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0% and 100%.
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = (z / (1 + z2 / trials)) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half))


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of group a against group b."""
    if trials_a <= 0 or trials_b <= 0:
        return 1.0
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance <= 0:
        return 1.0  # everyone (or no one) succeeded in both groups: no evidence of a difference
    z = (successes_a / trials_a - successes_b / trials_b) / math.sqrt(variance)
    return 2 * (1 - _NORMAL.cdf(abs(z)))


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (controls the family-wise error)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
