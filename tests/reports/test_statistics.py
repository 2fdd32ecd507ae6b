"""Wilson intervals, the two-proportion test and Holm's correction give the textbook values."""

from __future__ import annotations

import pytest

from app.reports.statistics import holm_adjust, two_proportion_p_value, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=5e-4)
    assert interval.high == pytest.approx(high, abs=5e-4)


def test_wilson_interval_of_nobody_is_none() -> None:
    assert wilson_interval(0, 0) is None


def test_wilson_interval_refuses_more_successes_than_trials() -> None:
    with pytest.raises(ValueError, match="between 0 and trials"):
        wilson_interval(11, 10)


def test_two_proportion_test_matches_a_worked_example() -> None:
    # 45/100 against 60/100: pooled 0.525, z = -2.124, two-sided p = 0.0337.
    assert two_proportion_p_value(45, 100, 60, 100) == pytest.approx(0.0337, abs=5e-4)


def test_two_proportion_test_sees_no_difference_when_everyone_answered() -> None:
    assert two_proportion_p_value(10, 10, 30, 30) == 1.0


def test_holm_multiplies_the_smallest_p_value_by_the_number_of_tests_and_keeps_order() -> None:
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.6]) == pytest.approx([1.0, 1.0])
