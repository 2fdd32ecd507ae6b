"""The attempt policy: how often, how far apart and by which channel a patient is tried."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.errors import InvalidInputError

# The input that errors in a policy blame (the API's and the form's name for it).
FIELD = "attempt_policy"


@dataclass(frozen=True)
class AttemptPolicy:
    """Up to ``calls`` calls at different times of day, then one SMS, then unreachable.

    A call that reaches someone who cannot confirm the patient's identity is followed by up to
    ``identity_retries`` more, at another time of day (the patient may be the one at home then);
    the worklist task opened by the first stays open until one of them gets an answer.

    ``reminder_days`` (e.g. ``[3, 6]``) sends a reminder text on each of those days after an
    unanswered closing SMS, where the script has reminder words; the wait for a reply
    (``sms_reply_hours``) then counts from the last reminder, so nobody is marked unreachable
    before their reminders had their time. Reminders follow the closing SMS only: a policy with
    ``sms: false`` may not ask for them.
    """

    calls: int = 3
    min_gap_hours: float = 4.0
    sms: bool = True
    sms_reply_hours: float = 48.0
    max_retries: int = 6
    one_contact_per_day: bool = True
    identity_retries: int = 1
    reminder_days: tuple[int, ...] = ()

    @property
    def sms_attempt_number(self) -> int | None:
        """The attempt number of the closing SMS, if the policy sends one."""
        return self.calls + 1 if self.sms else None

    def as_json(self) -> dict[str, Any]:
        """The policy as stored on the campaign."""
        return {**asdict(self), "reminder_days": list(self.reminder_days)}


def parse_policy(document: dict[str, Any] | None) -> AttemptPolicy:
    """Validate a campaign's ``attempt_policy`` JSON (empty means the defaults)."""
    document = dict(document or {})
    unknown = set(document) - set(AttemptPolicy.__dataclass_fields__)
    if unknown:
        raise InvalidInputError(
            f"unknown attempt policy fields: {', '.join(sorted(unknown))}", field=FIELD
        )
    if "reminder_days" in document:
        days = document["reminder_days"]
        if not isinstance(days, list | tuple) or not all(
            isinstance(day, int) and not isinstance(day, bool) for day in days
        ):
            raise InvalidInputError(
                "reminder_days is a list of whole days, e.g. [3, 6]", field=FIELD
            )
        document["reminder_days"] = tuple(days)
    try:
        policy = AttemptPolicy(**document)
    except TypeError as exc:
        raise InvalidInputError(f"invalid attempt policy: {exc}", field=FIELD) from exc
    if not 1 <= policy.calls <= 6:
        raise InvalidInputError("an attempt policy makes between 1 and 6 calls", field=FIELD)
    if policy.min_gap_hours < 1:
        raise InvalidInputError("attempts must be at least an hour apart", field=FIELD)
    if policy.sms and not 1 <= policy.sms_reply_hours <= 14 * 24:
        # Zero or negative would mark a patient unreachable the moment the text went out.
        raise InvalidInputError(
            "the wait for an SMS reply must be between 1 hour and 14 days", field=FIELD
        )
    if not 0 <= policy.identity_retries <= 3:
        raise InvalidInputError("identity_retries must be between 0 and 3", field=FIELD)
    if not 0 <= policy.max_retries <= 20:
        raise InvalidInputError("max_retries must be between 0 and 20", field=FIELD)
    days = policy.reminder_days
    if days and not policy.sms:
        raise InvalidInputError(
            "reminders follow the closing SMS: reminder_days needs sms: true", field=FIELD
        )
    if len(days) > 3 or any(not 1 <= day <= 14 for day in days) or list(days) != sorted(set(days)):
        raise InvalidInputError(
            "reminder_days lists up to 3 days between 1 and 14 after the closing SMS, "
            "in increasing order",
            field=FIELD,
        )
    return policy
