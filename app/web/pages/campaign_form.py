"""The "create a campaign" form: the fields as typed, their defaults, and how they become a
``CampaignIn`` (the API's input model) with any errors keyed by the field to show them beside.

Only the reading of text is done here (a time, a list of hours, a number); every rule about what
is allowed is the domain's, called field by field so each message lands on its own input.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from app.campaigns.policy import AttemptPolicy, parse_policy
from app.campaigns.windows import DAYS, DEFAULT_WEEKLY, parse_windows
from app.errors import DomainError, InvalidInputError
from app.web.api.campaigns import CampaignIn

# Sunday has no field: patients are never called on Sundays.
WINDOW_DAYS = DAYS[:6]
DAY_NAMES = dict(
    zip(
        WINDOW_DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
        strict=True,
    )
)
# Where each input of the API model (and each domain error's field) is shown on the page.
ANCHORS = {
    "calling_windows": "windows_mon",
    "attempt_policy": "policy_calls",
    "simulated": "name",
    "rule_set": "name",
}
# The order of the error summary: the order of the fields on the page.
FIELD_ORDER = (
    "name",
    "cohort_id",
    "flow_id",
    "starts_at",
    *(f"windows_{day}" for day in WINDOW_DAYS),
    "policy_calls",
    "policy_min_gap_hours",
    "policy_sms",
    "policy_sms_reply_hours",
    "policy_reminder_days",
    "sms_provider",
    "calls_per_second",
)
MESSAGES = {
    ("name", "string_too_short"): "Enter a name for the campaign",
    ("name", "string_too_long"): "The name must be 200 characters or fewer",
    ("cohort_id", "int_parsing"): "Select a cohort",
    ("cohort_id", "greater_than_equal"): "Select a cohort",
    ("cohort_id", "less_than_equal"): "Select a cohort",
    ("flow_id", "string_too_short"): "Select a call script",
    ("sms_provider", "literal_error"): "Choose how the text messages are sent",
    ("calls_per_second", "float_parsing"): "Enter calls a second as a number, like 1 or 0.5",
    ("calls_per_second", "greater_than"): "Calls a second must be more than 0",
}
POLICY_FIELDS: tuple[tuple[str, str, type[int] | type[float], str], ...] = (
    ("policy_calls", "calls", int, "Enter the number of calls as a whole number, like 3"),
    ("policy_min_gap_hours", "min_gap_hours", float, "Enter the hours between calls, like 4"),
    (
        "policy_sms_reply_hours",
        "sms_reply_hours",
        float,
        "Enter the hours to wait for a reply, like 48",
    ),
)


class CampaignForm(BaseModel):
    """What the coordinator typed, kept as text so the form can be shown again unchanged."""

    name: str = Field(default="", max_length=1000)
    cohort_id: str = Field(default="", max_length=20)
    flow_id: str = Field(default="", max_length=200)
    starts_at: str = Field(default="", max_length=40)
    windows_mon: str = Field(default="", max_length=200)
    windows_tue: str = Field(default="", max_length=200)
    windows_wed: str = Field(default="", max_length=200)
    windows_thu: str = Field(default="", max_length=200)
    windows_fri: str = Field(default="", max_length=200)
    windows_sat: str = Field(default="", max_length=200)
    policy_calls: str = Field(default="", max_length=20)
    policy_min_gap_hours: str = Field(default="", max_length=20)
    policy_sms: str = Field(default="", max_length=3)
    policy_sms_reply_hours: str = Field(default="", max_length=20)
    policy_reminder_days: str = Field(default="", max_length=40)
    # Offered only where this deployment has a choice (GOV.UK Notify configured); empty means
    # the deployment's default.
    sms_provider: str = Field(default="", max_length=20)
    calls_per_second: str = Field(default="", max_length=20)

    def window(self, day: str) -> str:
        """The hours typed for ``day``."""
        text: str = getattr(self, f"windows_{day}")
        return text


def _number(value: float) -> str:
    return f"{value:g}"


def default_form(*, account_calls_per_second: float, sms_provider: str = "") -> CampaignForm:
    """The form prefilled with the defaults the API and the command line use."""
    policy = AttemptPolicy()
    weekly = DEFAULT_WEEKLY
    windows = {
        f"windows_{day}": ", ".join(f"{start}-{end}" for start, end in weekly.get(day, []))
        for day in WINDOW_DAYS
    }
    return CampaignForm(
        **windows,
        policy_calls=str(policy.calls),
        policy_min_gap_hours=_number(policy.min_gap_hours),
        policy_sms="yes" if policy.sms else "no",
        policy_sms_reply_hours=_number(policy.sms_reply_hours),
        policy_reminder_days=", ".join(str(day) for day in policy.reminder_days),
        sms_provider=sms_provider,
        calls_per_second=_number(account_calls_per_second),
    )


def _local(text: str, zone: ZoneInfo) -> dt.datetime:
    """A wall-clock time in the hospital's zone as an aware UTC datetime; ValueError says what
    is wrong."""
    try:
        local = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        raise ValueError("Enter the start as a UK date and time, like 2026-12-01 09:00")
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError("That time does not exist in the UK (the clocks go forward then)")
    return aware.astimezone(dt.UTC)


def _intervals(text: str) -> list[list[str]]:
    """``"09:30-12:00, 13:00-18:00"`` as ``[["09:30", "12:00"], ["13:00", "18:00"]]``."""
    intervals = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(part)
        intervals.append([_hhmm(start), _hhmm(end)])
    return intervals


def _hhmm(text: str) -> str:
    return dt.time.fromisoformat(text.strip().replace(".", ":")).strftime("%H:%M")


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def parse_form(form: CampaignForm, *, zone: ZoneInfo) -> tuple[CampaignIn | None, dict[str, str]]:
    """The API model for this form, or None and the errors by field id; times are wall-clock
    times in ``zone`` (the settings' zone)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "name": form.name.strip(),
        "cohort_id": form.cohort_id,
        "flow_id": form.flow_id,
        "calls_per_second": form.calls_per_second.strip() or None,
        "sms_provider": form.sms_provider or None,
    }
    if form.starts_at.strip():
        try:
            body["starts_at"] = _local(form.starts_at, zone)
        except ValueError as exc:
            errors["starts_at"] = str(exc)
    weekly: dict[str, list[list[str]]] = {}
    for day in WINDOW_DAYS:
        try:
            weekly[day] = _intervals(form.window(day))
        except ValueError:
            errors[f"windows_{day}"] = (
                f"Enter {DAY_NAMES[day]}'s hours like 09:00-19:00, or leave it empty"
            )
            continue
        if not weekly[day]:
            continue  # closed that day; at least one open day is checked below
        try:
            parse_windows({"weekly": {day: weekly[day]}})
        except InvalidInputError as exc:
            errors[f"windows_{day}"] = f"{DAY_NAMES[day]}: {exc}"
    if not errors.keys() & {f"windows_{day}" for day in WINDOW_DAYS} and not any(weekly.values()):
        errors["windows_mon"] = "Enter calling hours for at least one day"
    body["calling_windows"] = {"timezone": zone.key, "weekly": weekly}
    policy: dict[str, Any] = {"sms": form.policy_sms != "no"}
    for field, key, kind, message in POLICY_FIELDS:
        try:
            policy[key] = kind(getattr(form, field).strip())
        except ValueError:
            errors[field] = message
            continue
        if not math.isfinite(policy[key]):
            errors[field] = message
            continue
        try:
            parse_policy({key: policy[key]})
        except InvalidInputError as exc:
            errors[field] = _sentence(str(exc))
    if form.policy_reminder_days.strip():
        try:
            days = [int(part) for part in form.policy_reminder_days.replace(";", ",").split(",")]
            parse_policy({"sms": policy["sms"], "reminder_days": days})
        except ValueError:
            errors["policy_reminder_days"] = "Enter the days as whole numbers, like 3, 6"
        except InvalidInputError as exc:
            errors["policy_reminder_days"] = _sentence(str(exc))
        else:
            policy["reminder_days"] = days
    body["attempt_policy"] = policy
    try:
        parsed = CampaignIn.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "name"
            anchor = ANCHORS.get(field, field)
            errors.setdefault(anchor, MESSAGES.get((field, error["type"]), error["msg"]))
        return None, ordered(errors)
    return (None, ordered(errors)) if errors else (parsed, {})


def domain_errors(error: DomainError) -> dict[str, str]:
    """A domain error from creating the campaign, shown beside the field it blames."""
    field = error.field or "name"
    return {ANCHORS.get(field, field): _sentence(str(error))}


def ordered(errors: dict[str, str]) -> dict[str, str]:
    """The errors in the order their fields appear on the page."""
    rank = {field: n for n, field in enumerate(FIELD_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))
