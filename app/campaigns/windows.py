"""Calling hours: when a patient may be rung, judged in the hospital's local time.

Windows are wall-clock times in the hospital's time zone (``WAITLIST_TIMEZONE``, recorded in each
campaign's windows when it is created), so 09:00 stays 09:00 across the clocks changing; never on
Sundays or English bank holidays. A simulated (demo) campaign may be always open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.calendar import is_bank_holiday
from app.config import DEFAULT_TIMEZONE
from app.errors import InvalidInputError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKLY: dict[str, list[list[str]]] = {day: [["09:00", "19:00"]] for day in DAYS[:5]} | {
    "sat": [["10:00", "16:00"]]
}
# The input that errors in these windows blame (the API's and the form's name for it).
FIELD = "calling_windows"
# Never start a call that would still be ringing when the window closes.
CLOSING_MARGIN = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class CallingWindows:
    """Weekly opening hours in a time zone; ``always_open`` only for simulated campaigns."""

    zone: ZoneInfo
    weekly: dict[str, list[tuple[dt.time, dt.time]]]
    always_open: bool = False

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals of one local date, as aware UTC datetimes."""
        if day.weekday() == 6 or is_bank_holiday(day):
            return []
        result = []
        for start, end in self.weekly.get(DAYS[day.weekday()], []):
            opens = dt.datetime.combine(day, start, tzinfo=self.zone).astimezone(dt.UTC)
            closes = dt.datetime.combine(day, end, tzinfo=self.zone).astimezone(dt.UTC)
            result.append((opens, closes))
        return result

    def is_open(self, at: dt.datetime, *, margin: dt.timedelta = CLOSING_MARGIN) -> bool:
        """True if a call may start at ``at`` and still end its ringing inside the window."""
        if self.always_open:
            return True
        day = at.astimezone(self.zone).date()
        return any(
            opens <= at and at + margin <= closes for opens, closes in self.intervals_on(day)
        )

    def next_open(self, after: dt.datetime, *, horizon_days: int = 60) -> dt.datetime:
        """The first moment at or after ``after`` when a call may start."""
        if self.is_open(after):
            return after
        day = after.astimezone(self.zone).date()
        for offset in range(horizon_days):
            for opens, closes in self.intervals_on(day + dt.timedelta(days=offset)):
                if closes - CLOSING_MARGIN > after:
                    return max(opens, after)
        raise InvalidInputError("the calling windows never open; check the campaign's schedule")

    def local_date(self, at: dt.datetime) -> dt.date:
        """The hospital's calendar date at ``at``."""
        return at.astimezone(self.zone).date()


def in_zone(document: dict[str, Any] | None, zone: str) -> dict[str, Any]:
    """A campaign's windows as stored: the usual hours if none are given, in ``zone`` unless the
    document names its own (so a campaign keeps its zone whatever the settings say later)."""
    windows = dict(document) if document else {"weekly": DEFAULT_WEEKLY, "always_open": False}
    windows.setdefault("timezone", zone)
    return windows


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(
            f"unknown time zone {name!r}; use an IANA name such as {DEFAULT_TIMEZONE}", field=FIELD
        ) from exc


def _parse_time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"calling window time {text!r} is not HH:MM", field=FIELD) from exc


def parse_windows(document: dict[str, Any] | None) -> CallingWindows:
    """Validate a campaign's ``calling_windows`` JSON (empty means the defaults)."""
    document = in_zone(document, DEFAULT_TIMEZONE)
    weekly: dict[str, list[tuple[dt.time, dt.time]]] = {}
    for day, intervals in (document.get("weekly") or {}).items():
        if day not in DAYS:
            raise InvalidInputError(f"unknown day {day!r}; use {', '.join(DAYS)}", field=FIELD)
        if day == "sun" and intervals:
            raise InvalidInputError("patients are never called on Sundays", field=FIELD)
        parsed = [(_parse_time(start), _parse_time(end)) for start, end in intervals]
        if any(start >= end for start, end in parsed):
            raise InvalidInputError(f"a window on {day} closes before it opens", field=FIELD)
        if any(start < dt.time(8) or end > dt.time(20) for start, end in parsed):
            raise InvalidInputError("calling windows must lie between 08:00 and 20:00", field=FIELD)
        weekly[day] = parsed
    always_open = bool(document.get("always_open", False))
    if not always_open and not any(weekly.values()):
        # Refused here, not when the campaign starts and finds it can never ring anyone.
        raise InvalidInputError("calling windows must open on at least one day", field=FIELD)
    return CallingWindows(
        zone=_zone(document["timezone"]),
        weekly=weekly,
        always_open=always_open,
    )


def describe_windows(document: dict[str, Any] | None) -> str:
    """A campaign's calling windows in one line, for its page and status output."""
    windows = parse_windows(document)
    if windows.always_open:
        return "always open (SIMULATED campaign: demo only)"
    return "; ".join(
        f"{day} " + ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
        for day, spans in windows.weekly.items()
    )
