"""Planning notices: the pre-call text before a round's first call, the reminders after an
unanswered closing SMS, and when the wait for a reply then starts.

Notices are written into the ``contact_notice`` outbox ahead of time, due inside the campaign's
calling windows; ``app.campaigns.outbox`` sends them. Only a script that gives the words of a
kind (``notices:`` in the script file) gets notices of that kind.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.eligibility import contact_number
from app.campaigns.policy import AttemptPolicy, parse_policy
from app.campaigns.windows import CallingWindows, parse_windows
from app.flows import notice_kinds
from app.models import (
    AttemptStatus,
    CallScript,
    Campaign,
    CampaignStatus,
    Channel,
    ContactAttempt,
    ContactNotice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Pathway,
    Patient,
    RoundStatus,
    ValidationRound,
)
from app.notices import UNSETTLED, advance_notices

log = logging.getLogger(__name__)
# The pre-call text goes this long before the call (moved into the calling windows).
PRE_CALL_LEAD = dt.timedelta(days=1)
# How many earlier days are tried when the day before the call has no open window before it.
_LOOKBACK_DAYS = 7


def new_notice_token() -> str:
    """An unguessable token for the notice's delivery receipts."""
    return secrets.token_urlsafe(24)


def scripts_with(session: Session, kind: NoticeKind, script_ids: Sequence[int]) -> set[int]:
    """Which of these stored scripts give words for ``kind`` (read from their stored text)."""
    rows = session.execute(
        select(CallScript.id, CallScript.content).where(CallScript.id.in_(set(script_ids)))
    ).all()
    return {script_id for script_id, content in rows if kind.value in notice_kinds(content)}


def pre_call_due(windows: CallingWindows, *, call_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When the pre-call text goes: a day before the call, inside the windows, never in the past.

    The day before may be closed (a Sunday, a bank holiday) or open only after the call's hour:
    then an earlier day's window is taken. A call sooner than that gets its text now (or at the
    next opening), which may be just before the call; never after it, if the windows allow.
    """
    for days_back in range(_LOOKBACK_DAYS):
        target = max(now, call_at - PRE_CALL_LEAD - dt.timedelta(days=days_back))
        due = windows.next_open(target)
        if due < call_at:
            return due
        if target == now:
            break
    return windows.next_open(now)


@dataclass(frozen=True)
class FirstCall:
    """A round's first call just planned, as the pre-call text needs it."""

    attempt_id: int
    campaign_id: int
    pathway_id: int
    patient: Patient
    validation_round_id: int | None
    call_script_id: int | None
    due_at: dt.datetime


def plan_pre_call_notices(
    session: Session, *, campaign: Campaign, calls: Sequence[FirstCall], now: dt.datetime
) -> int:
    """A pre-call text for each first call whose patient has a mobile and whose script has the
    words; the unique key refuses a second one for the same call. Returns how many."""
    scripts = {call.call_script_id or campaign.call_script_id for call in calls}
    worded = scripts_with(session, NoticeKind.PRE_CALL, list(scripts))
    if not worded:
        return 0
    windows = parse_windows(campaign.calling_windows)
    values = []
    for call in calls:
        mobile = contact_number(call.patient, sms=True)
        script_id = call.call_script_id or campaign.call_script_id
        if mobile is None or call.patient.opted_out_at is not None or script_id not in worded:
            continue
        values.append(
            {
                "campaign_id": call.campaign_id,
                "pathway_id": call.pathway_id,
                "patient_id": call.patient.id,
                "validation_round_id": call.validation_round_id,
                "contact_attempt_id": call.attempt_id,
                "kind": NoticeKind.PRE_CALL,
                "sequence": 1,
                "due_at": pre_call_due(windows, call_at=call.due_at, now=now),
                "status": NoticeStatus.PLANNED,
                "to_number": mobile,
                "token": new_notice_token(),
            }
        )
    if values:
        session.execute(insert(ContactNotice), values)
    return len(values)


def _round_still_open() -> ColumnElement[bool]:
    return or_(
        ContactAttempt.validation_round_id.is_(None),
        exists().where(
            ValidationRound.id == ContactAttempt.validation_round_id,
            ValidationRound.status == RoundStatus.OPEN,
        ),
    )


def reminder_policies(session: Session) -> dict[int, AttemptPolicy]:
    """The policies of running or paused campaigns that send reminders, by campaign id."""
    rows = session.execute(
        select(Campaign.id, Campaign.attempt_policy).where(
            Campaign.status.in_((CampaignStatus.RUNNING, CampaignStatus.PAUSED))
        )
    ).all()
    policies = {campaign_id: parse_policy(document) for campaign_id, document in rows}
    return {key: policy for key, policy in policies.items() if policy.reminder_days}


def plan_reminders(session: Session, *, now: dt.datetime, limit: int = 200) -> int:
    """Plan the reminders of each closing SMS sent and not yet replied to (once per text).

    Each is due ``reminder_days`` after the text went, at the next opening of the windows.
    """
    policies = reminder_policies(session)
    if not policies:
        return 0
    script_of = func.coalesce(ContactAttempt.call_script_id, Campaign.call_script_id)
    scripts = session.scalars(
        select(script_of)
        .select_from(Campaign)
        .join(ContactAttempt, ContactAttempt.campaign_id == Campaign.id)
        .where(Campaign.id.in_(policies), ContactAttempt.channel == Channel.SMS)
        .distinct()
    ).all()
    worded = scripts_with(session, NoticeKind.REMINDER, list(scripts))
    if not worded:
        return 0
    rows = session.execute(
        select(ContactAttempt, Campaign, Patient)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .join(Pathway, Pathway.id == ContactAttempt.pathway_id)
        .join(Patient, Patient.id == ContactAttempt.patient_id)
        .where(
            Campaign.id.in_(policies),
            ContactAttempt.channel == Channel.SMS,
            ContactAttempt.status == AttemptStatus.PLACED,
            ContactAttempt.placed_at.is_not(None),
            script_of.in_(worded),
            Pathway.outcome == Outcome.PENDING,
            _round_still_open(),
            ~exists().where(
                ContactNotice.contact_attempt_id == ContactAttempt.id,
                ContactNotice.kind == NoticeKind.REMINDER,
            ),
        )
        .order_by(ContactAttempt.id)
        .limit(limit)
    ).all()
    planned = 0
    for attempt, campaign, patient in rows:
        mobile = attempt.to_number or contact_number(patient, sms=True)
        if mobile is None or attempt.placed_at is None:
            continue
        windows = parse_windows(campaign.calling_windows)
        values = [
            {
                "campaign_id": campaign.id,
                "pathway_id": attempt.pathway_id,
                "patient_id": attempt.patient_id,
                "validation_round_id": attempt.validation_round_id,
                "contact_attempt_id": attempt.id,
                "kind": NoticeKind.REMINDER,
                "sequence": number,
                "due_at": windows.next_open(attempt.placed_at + dt.timedelta(days=days)),
                "status": NoticeStatus.PLANNED,
                "to_number": mobile,
                "token": new_notice_token(),
            }
            for number, days in enumerate(policies[campaign.id].reminder_days, start=1)
        ]
        try:
            with session.begin_nested():
                session.execute(insert(ContactNotice), values)
            planned += len(values)
        except IntegrityError:
            log.info("attempt %s: another worker planned its reminders", attempt.id)
    return planned


def reply_wait_starts(
    session: Session, *, attempt: ContactAttempt, campaign: Campaign, sent: dt.datetime
) -> dt.datetime | None:
    """From when the wait for a reply to a closing SMS counts: the text itself, or its last
    reminder; None while a reminder is still to go (nobody is unreachable before it has)."""
    policy = parse_policy(campaign.attempt_policy)
    if not policy.reminder_days:
        return sent
    reminders = session.execute(
        select(ContactNotice.status, ContactNotice.sent_at, ContactNotice.updated_at).where(
            ContactNotice.contact_attempt_id == attempt.id,
            ContactNotice.kind == NoticeKind.REMINDER,
        )
    ).all()
    if not reminders:
        script_id = attempt.call_script_id or campaign.call_script_id
        if attempt.status == AttemptStatus.PLACED and scripts_with(
            session, NoticeKind.REMINDER, [script_id]
        ):
            return None  # planned on the next pass
        return sent
    if any(status in UNSETTLED for status, _, _ in reminders):
        return None
    return max([sent, *(sent_at or updated_at for _, sent_at, updated_at in reminders)])


def cancel_planned_notices(session: Session, *, campaign_id: int, reason: str) -> int:
    """Cancel a campaign's notices not yet sent (it was cancelled, or has finished)."""
    result = advance_notices(
        session,
        to=NoticeStatus.CANCELLED,
        only_from=frozenset({NoticeStatus.PLANNED}),
        where=(ContactNotice.campaign_id == campaign_id,),
        error_code=reason[:16],
    )
    return int(result.rowcount)
