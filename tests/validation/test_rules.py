"""When a pathway falls due: milestones from clock start, or an interval after the last round."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInputError
from app.validation.rules import DueRule, make_rule

CLOCK_START = dt.date(2026, 1, 5)


def weeks(n: int) -> dt.date:
    return CLOCK_START + dt.timedelta(weeks=n)


def test_a_pathway_never_validated_is_due_at_its_first_milestone() -> None:
    assert DueRule().next_due(clock_start=CLOCK_START, reference=None) == (weeks(12), "12 weeks")


def test_the_next_milestone_comes_first_when_it_is_sooner_than_the_interval() -> None:
    due, reason = DueRule().next_due(clock_start=CLOCK_START, reference=weeks(20))
    assert (due, reason) == (weeks(26), "26 weeks")


def test_the_interval_after_the_last_validation_comes_first_when_it_is_sooner() -> None:
    due, reason = DueRule().next_due(clock_start=CLOCK_START, reference=weeks(27))
    assert due == weeks(39)
    assert reason == "12 weeks after the last validation"


def test_after_the_last_milestone_it_falls_due_every_interval() -> None:
    rule = DueRule(milestones=(12, 26, 52), every=12, after=20)
    assert rule.next_due(clock_start=CLOCK_START, reference=weeks(53)) == (
        weeks(64),
        "every 12 weeks",
    )


def test_a_rule_with_falling_milestones_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="rising"):
        make_rule(milestones=[26, 12])
    with pytest.raises(InvalidInputError, match="between 1 and 52"):
        make_rule(every=0)
    with pytest.raises(InvalidInputError, match="within 260 weeks"):
        make_rule(milestones=[12, 10**9])
