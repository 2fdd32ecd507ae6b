from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.policy import parse_policy
from app.campaigns.windows import parse_windows
from app.errors import InvalidInputError
from app.models import AttemptStatus, ContactAttempt
from tests.campaigns.support import RecordingProvider, make_worker
from tests.campaigns.test_dispatcher import seed

DEFAULT = parse_windows(None)


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (utc(2026, 11, 23, 9, 0), True),  # Monday 09:00 GMT
        (utc(2026, 11, 23, 8, 59), False),
        (utc(2026, 11, 23, 18, 58), True),
        (utc(2026, 11, 23, 18, 59, 30), False),  # would still ring at 19:00
        (utc(2026, 11, 28, 10, 30), True),  # Saturday
        (utc(2026, 11, 28, 16, 30), False),
        (utc(2026, 11, 29, 12, 0), False),  # Sunday
        (utc(2026, 12, 25, 12, 0), False),  # Christmas Day, a Friday
        (utc(2026, 12, 28, 12, 0), False),  # Boxing Day substitute, a Monday
        (utc(2027, 3, 26, 8, 30), False),  # Friday before the clocks go forward: 08:30 GMT
        (utc(2027, 3, 30, 8, 30), True),  # Tuesday after (Monday is Easter Monday): 09:30 BST
        (utc(2027, 3, 30, 18, 30), False),  # 19:30 BST
        (utc(2026, 10, 24, 9, 30), True),  # Saturday before the clocks go back: 10:30 BST
        (utc(2026, 10, 26, 8, 30), False),  # Monday after: 08:30 GMT
    ],
)
def test_default_windows_follow_london_wall_clock_time(at: dt.datetime, is_open: bool) -> None:
    assert DEFAULT.is_open(at) is is_open


def test_next_open_skips_sundays_and_bank_holidays() -> None:
    christmas_eve_evening = utc(2026, 12, 24, 19, 30)
    # Christmas, Boxing Day (a Saturday), Sunday, and the Monday substitute holiday are closed.
    assert DEFAULT.next_open(christmas_eve_evening) == utc(2026, 12, 29, 9, 0)


def test_sunday_windows_and_unsocial_hours_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="Sundays"):
        parse_windows({"weekly": {"sun": [["10:00", "12:00"]]}})
    with pytest.raises(InvalidInputError, match="08:00 and 20:00"):
        parse_windows({"weekly": {"mon": [["07:00", "12:00"]]}})


@pytest.mark.parametrize("weekly", [{}, {"mon": [], "tue": []}])
def test_windows_that_never_open_are_refused_when_the_campaign_is_made(weekly: object) -> None:
    with pytest.raises(InvalidInputError, match="at least one day") as refused:
        parse_windows({"weekly": weekly})
    assert refused.value.field == "calling_windows"
    assert parse_windows({"weekly": {}, "always_open": True}).always_open


@pytest.mark.parametrize("hours", [0, -1, 24 * 15])
def test_an_sms_reply_wait_outside_an_hour_to_two_weeks_is_refused(hours: float) -> None:
    with pytest.raises(InvalidInputError, match="SMS reply") as refused:
        parse_policy({"sms_reply_hours": hours})
    assert refused.value.field == "attempt_policy"
    assert parse_policy({"sms": False, "sms_reply_hours": 0}).sms is False


@pytest.mark.parametrize(
    ("now", "placed"),
    [
        (utc(2027, 3, 26, 8, 30), False),
        (utc(2027, 3, 30, 8, 30), True),
        (utc(2026, 10, 26, 8, 30), False),
        (utc(2026, 10, 26, 9, 30), True),
    ],
)
def test_the_window_is_checked_at_placing_time_across_the_clock_change(
    factory: sessionmaker[Session], now: dt.datetime, placed: bool
) -> None:
    seed(factory, 1, windows={})
    provider = RecordingProvider()
    make_worker(factory, provider, clock=lambda: now).run(once=True)
    assert bool(provider.contacts) is placed
    with factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
    if not placed:
        assert attempt.status == AttemptStatus.PLANNED
        assert DEFAULT.is_open(attempt.due_at)
