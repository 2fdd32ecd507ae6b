"""When a pathway next falls due: milestones from clock start, or an interval after the last round.

NHS England asks for validation at 12, 26 and 52 weeks of waiting and at least every 12 weeks
after; a pathway validated (or tried) more recently is not due again until the interval has
passed, unless a milestone comes sooner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.errors import InvalidInputError

DEFAULT_MILESTONE_WEEKS = (12, 26, 52)
DEFAULT_EVERY_WEEKS = 12
DEFAULT_AFTER_VALIDATION_WEEKS = 12
DEFAULT_WINDOW_DAYS = 7
MAX_MILESTONES = 12
MAX_MILESTONE_WEEKS = 260  # five years of waiting


@dataclass(frozen=True)
class DueRule:
    """``milestones`` weeks from clock start, then every ``every`` weeks; or ``after`` weeks after
    the last round, whichever is sooner."""

    milestones: tuple[int, ...] = DEFAULT_MILESTONE_WEEKS
    every: int = DEFAULT_EVERY_WEEKS
    after: int = DEFAULT_AFTER_VALIDATION_WEEKS

    def points(self, clock_start: dt.date) -> Iterator[tuple[dt.date, str]]:
        """The milestone dates from clock start, without end, with the reason for each."""
        last = 0
        for weeks in self.milestones:
            last = weeks
            yield clock_start + dt.timedelta(weeks=weeks), f"{weeks} weeks"
        while True:
            last += self.every
            yield clock_start + dt.timedelta(weeks=last), f"every {self.every} weeks"

    def next_due(self, *, clock_start: dt.date, reference: dt.date | None) -> tuple[dt.date, str]:
        """The next due date after the last round (or validation) on ``reference``, and why."""
        points = self.points(clock_start)
        if reference is None:
            return next(points)
        for point, reason in points:
            if point > reference:
                interval = reference + dt.timedelta(weeks=self.after)
                if interval < point:
                    return interval, f"{self.after} weeks after the last validation"
                return point, reason
        raise AssertionError("unreachable: the points never end")  # pragma: no cover


def make_rule(
    *, milestones: Sequence[int] | None = None, every: int | None = None, after: int | None = None
) -> DueRule:
    """A checked rule: milestones rising and positive, intervals of 1 to 52 weeks."""
    weeks = tuple(DEFAULT_MILESTONE_WEEKS if milestones is None else milestones)
    every = DEFAULT_EVERY_WEEKS if every is None else every
    after = DEFAULT_AFTER_VALIDATION_WEEKS if after is None else after
    if not weeks or any(w <= 0 for w in weeks) or list(weeks) != sorted(set(weeks)):
        raise InvalidInputError(
            "milestones must be rising whole weeks above 0, e.g. 12,26,52", field="milestones"
        )
    if len(weeks) > MAX_MILESTONES or weeks[-1] > MAX_MILESTONE_WEEKS:
        raise InvalidInputError(
            f"at most {MAX_MILESTONES} milestones, the last within {MAX_MILESTONE_WEEKS} weeks",
            field="milestones",
        )
    for name, value in (("every", every), ("after", after)):
        if not 1 <= value <= 52:
            raise InvalidInputError(f"{name} must be between 1 and 52 weeks", field=name)
    return DueRule(milestones=weeks, every=every, after=after)
