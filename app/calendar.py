"""Working days in England: weekends and bank holidays are not working days."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: dt.date) -> bool:
    """True on an English bank holiday."""
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start``."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def subtract_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days before ``start``."""
    day = start
    remaining = days
    while remaining > 0:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
