"""Planning: contact-attempt rows written ahead of time, due inside the calling windows.

The first call of every eligible pathway is spread across the opening hours of the first days
(within the campaign's rate, leaving room for retries); each later attempt is planned when the
previous one ends without an answer, on a later day and at a different time of day.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.campaigns.eligibility import Block, contact_number, pathway_facts
from app.campaigns.languages import LanguageRouter, scripts_by_language
from app.campaigns.notices import FirstCall, plan_pre_call_notices
from app.campaigns.policy import AttemptPolicy, parse_policy
from app.campaigns.windows import CLOSING_MARGIN, CallingWindows, parse_windows
from app.db import in_batches
from app.models import (
    CallScript,
    Campaign,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    Patient,
    TaskReason,
    TaskState,
    ValidationRound,
    WorklistTask,
)
from app.outcomes.service import record_outcome
from app.validation import rounds

# Plan first calls at this share of the rate so retries and follow-ups still fit in the day.
PLANNING_HEADROOM = 0.8
# Local-clock bands that make "different times of day" concrete.
BANDS = ((dt.time(0), dt.time(12)), (dt.time(12), dt.time(15, 30)), (dt.time(15, 30), dt.time.max))


def new_token() -> str:
    """An unguessable token for callback URLs (and the attempt's idempotency key)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class PlanReport:
    """What planning did for a campaign, and where each eligible patient was routed."""

    planned: int
    skipped: dict[str, int]
    unreachable: int
    # Script id -> pathways planned with it; ``worklist:<reason>`` -> pathways handed to staff.
    routed: dict[str, int] = field(default_factory=dict)


def _open_slots(
    windows: CallingWindows, start: dt.datetime, days: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The open intervals of ``days`` calling days from ``start`` (always-open: whole days)."""
    slots: list[tuple[dt.datetime, dt.datetime]] = []
    day = windows.local_date(start)
    while len({windows.local_date(a) for a, _ in slots}) < days:
        if windows.always_open:
            opens = dt.datetime.combine(day, dt.time(0), tzinfo=windows.zone).astimezone(dt.UTC)
            intervals = [(opens, opens + dt.timedelta(days=1))]
        else:
            intervals = windows.intervals_on(day)
        for opens, closes in intervals:
            opens, closes = max(opens, start), closes - CLOSING_MARGIN
            if opens < closes:
                slots.append((opens, closes))
        day += dt.timedelta(days=1)
    return slots


def day_capacity(windows: CallingWindows, *, start: dt.datetime, per_second: float) -> int:
    """How many first calls fit in the next calling day from ``start`` at the planning rate."""
    if windows.always_open:
        return max(1, int(24 * 3600 * per_second * PLANNING_HEADROOM))
    slots = _open_slots(windows, start, 1)
    seconds = sum((b - a).total_seconds() for a, b in slots)
    return max(1, int(seconds * per_second * PLANNING_HEADROOM))


def spread_due_times(
    count: int,
    *,
    windows: CallingWindows,
    start: dt.datetime,
    per_second: float,
    rng: random.Random,
) -> list[dt.datetime]:
    """``count`` due times inside the windows from ``start``, each day filled up to the rate.

    An always-open window (simulated campaigns only) has no times of day to spread over, so its
    first calls are packed from ``start`` at the planning share of the rate.
    """
    if windows.always_open:
        gap = 1 / (per_second * PLANNING_HEADROOM)
        return [start + dt.timedelta(seconds=i * gap) for i in range(count)]
    due: list[dt.datetime] = []
    day_index = 0
    while len(due) < count:
        day_slots = _open_slots(windows, start, day_index + 1)
        last_day = windows.local_date(day_slots[-1][0])
        today = [(a, b) for a, b in day_slots if windows.local_date(a) == last_day]
        seconds = sum((b - a).total_seconds() for a, b in today)
        capacity = max(1, int(seconds * per_second * PLANNING_HEADROOM))
        for _ in range(min(capacity, count - len(due))):
            offset = rng.uniform(0, seconds)
            for opens, closes in today:
                length = (closes - opens).total_seconds()
                if offset <= length:
                    due.append(opens + dt.timedelta(seconds=offset))
                    break
                offset -= length
        day_index += 1
    return sorted(due)


def plan_campaign(
    session: Session, *, campaign: Campaign, now: dt.datetime, rng: random.Random | None = None
) -> PlanReport:
    """Plan the first attempt of every eligible pathway in the campaign's cohort."""
    rng = rng or random.Random()  # noqa: S311 - spreading times, not secrets
    windows = parse_windows(campaign.calling_windows)
    rows = session.execute(
        select(Pathway, Patient)
        .join(Patient, Patient.id == Pathway.patient_id)
        .where(Pathway.cohort_id == campaign.cohort_id)
        .order_by(Pathway.id)
    ).all()
    skipped: dict[str, int] = defaultdict(int)
    routed: dict[str, int] = defaultdict(int)
    unreachable = 0
    campaign_script = session.get(CallScript, campaign.call_script_id)
    assert campaign_script is not None
    router = LanguageRouter(
        scripts_by_language(session, campaign_script=campaign_script, simulated=campaign.simulated),
        campaign=campaign,
    )
    script_of: dict[int, int | None] = {}
    by_patient: dict[int, list[tuple[Pathway, Patient]]] = defaultdict(list)
    ids = [pathway.id for pathway, _ in rows]
    current, validated = rounds.current_rounds(session, ids), rounds.validated_dates(session, ids)
    weeks = rounds.rule_for(session, cohort_id=campaign.cohort_id).after
    facts = pathway_facts(session, rows)
    opened: dict[int, ValidationRound] = {}
    excluded: list[int] = []
    for pathway, patient in rows:
        latest = current.get(pathway.id)
        new_round = rounds.needs_new_round(latest)
        block: Block | None = None
        if new_round and rounds.recently_validated(
            pathway, ours=validated.get(pathway.id), today=now.date(), weeks=weeks
        ):
            block = Block.VALIDATED_RECENTLY
        block = block or facts.block(pathway, patient, new_round=new_round)
        if block is not None:
            skipped[block.value] += 1
            if block == Block.EXCLUDED:
                excluded.append(pathway.id)
            continue
        script = router.script_for(pathway, patient)
        if script is None:  # no approved script in the patient's language: a person has them
            routed[f"worklist:{TaskReason.LANGUAGE.value}"] += 1
            continue
        if new_round or latest is None:
            latest = rounds.open_round(
                session,
                pathway=pathway,
                now=now,
                campaign_id=campaign.id,
                previous=latest,
                flush=False,
            )
        opened[pathway.id] = latest
        if contact_number(patient, sms=False) is None:
            mark_unreachable(
                session, campaign=campaign, pathway=pathway, note="no telephone number", now=now
            )
            unreachable += 1
        else:
            script_of[pathway.id] = None if script.id == campaign_script.id else script.id
            routed[script.flow_id] += 1
            by_patient[patient.id].append((pathway, patient))
    session.flush()  # the rounds opened above, in one batch
    router.hand_over(session, now=now)
    round_ids = {pathway_id: entry.id for pathway_id, entry in opened.items()}
    for key, count in _follow_up_counts(session, excluded).items():
        routed[key] += count
    # A patient with several pathways gets them on successive days, never two on one day.
    waves: list[list[tuple[Pathway, Patient]]] = []
    for entries in by_patient.values():
        for index, entry in enumerate(entries):
            if index == len(waves):
                waves.append([])
            waves[index].append(entry)
    start = max(campaign.starts_at or now, now)
    calls: list[PlannedCall] = []
    for wave in waves:
        due_times = spread_due_times(
            len(wave), windows=windows, start=start, per_second=campaign.calls_per_second, rng=rng
        )
        rng.shuffle(due_times)
        calls.extend(
            PlannedCall(pathway, patient, 1, due_at, round_ids[pathway.id], script_of[pathway.id])
            for (pathway, patient), due_at in zip(wave, due_times, strict=True)
        )
        start = windows.next_open(
            dt.datetime.combine(
                windows.local_date(max(due_times)) + dt.timedelta(days=1),
                dt.time(0),
                tzinfo=windows.zone,
            ).astimezone(dt.UTC)
        )
    place_first_calls(session, campaign=campaign, calls=calls, now=now)
    return PlanReport(
        planned=len(calls), skipped=dict(skipped), unreachable=unreachable, routed=dict(routed)
    )


class PlannedCall(NamedTuple):
    """A new round's first call, before it has a row."""

    pathway: Pathway
    patient: Patient
    number: int  # the attempt number under the campaign
    due_at: dt.datetime
    round_id: int
    call_script_id: int | None  # the script in the patient's language, if not the campaign's


def place_first_calls(
    session: Session, *, campaign: Campaign, calls: Sequence[PlannedCall], now: dt.datetime
) -> int:
    """Insert the rounds' first calls in one batch, then plan each one's pre-call text.

    The insert hands back the new ids in order, so the texts are planned from what was just
    written. Asking the table afterwards (the campaign's planned calls no text announces yet, a
    batch of rounds at a time) read the whole campaign once a batch: quadratic, 135 s of
    PostgreSQL for a national day's 90,000 first calls. Returns how many texts were planned.
    """
    if not calls:
        return 0
    ids = session.scalars(
        insert(ContactAttempt).returning(ContactAttempt.id, sort_by_parameter_order=True),
        [
            attempt_values(
                campaign,
                call.pathway,
                call.patient,
                call.number,
                Channel.VOICE,
                call.due_at,
                call.round_id,
                call.call_script_id,
            )
            for call in calls
        ],
    ).all()
    first = [
        FirstCall(
            attempt_id=attempt_id,
            campaign_id=campaign.id,
            pathway_id=call.pathway.id,
            patient=call.patient,
            validation_round_id=call.round_id,
            call_script_id=call.call_script_id,
            due_at=call.due_at,
        )
        for attempt_id, call in zip(ids, calls, strict=True)
    ]
    return plan_pre_call_notices(session, campaign=campaign, calls=first, now=now)


def _follow_up_counts(session: Session, pathway_ids: list[int]) -> dict[str, int]:
    """``worklist:<reason>`` -> how many of these excluded pathways a rule handed to staff
    (language, access), each pathway counted once a reason."""
    counts: dict[str, int] = defaultdict(int)
    for chunk in in_batches(pathway_ids):
        rows = session.execute(
            select(WorklistTask.pathway_id, WorklistTask.reason)
            .where(
                WorklistTask.pathway_id.in_(chunk),
                WorklistTask.reason.in_((TaskReason.LANGUAGE, TaskReason.ACCESS)),
                WorklistTask.state == TaskState.OPEN,
            )
            .distinct()
        ).all()
        for _pathway_id, reason in rows:
            counts[f"worklist:{reason.value}"] += 1
    return dict(counts)


def attempt_values(
    campaign: Campaign,
    pathway: Pathway,
    patient: Patient,
    number: int,
    channel: Channel,
    due_at: dt.datetime,
    round_id: int | None,
    call_script_id: int | None = None,
) -> dict[str, object]:
    return {
        "call_script_id": call_script_id,
        "campaign_id": campaign.id,
        "pathway_id": pathway.id,
        "validation_round_id": round_id,
        "patient_id": patient.id,
        "attempt_number": number,
        "channel": channel,
        "status": "planned",
        "token": new_token(),
        "due_at": due_at,
        "to_number": contact_number(patient, sms=channel == Channel.SMS),
        "fence": 0,
        "retry_count": 0,
        "conversation": {},
    }


def band_of(windows: CallingWindows, at: dt.datetime) -> int:
    """Which time-of-day band (morning, early afternoon, late) ``at`` falls in locally."""
    local = at.astimezone(windows.zone).time()
    return next(i for i, (start, end) in enumerate(BANDS) if start <= local < end)


def next_attempt_time(
    *,
    windows: CallingWindows,
    policy: AttemptPolicy,
    previous: list[dt.datetime],
    after: dt.datetime,
    rng: random.Random,
) -> dt.datetime:
    """A due time on a later day than the last attempt, >= min gap after it, in an unused band."""
    last = max([*previous, after])
    earliest = last + dt.timedelta(hours=policy.min_gap_hours)
    used = {band_of(windows, at) for at in previous}
    wanted = [band for band in range(len(BANDS)) if band not in used] or list(range(len(BANDS)))
    day = windows.local_date(last) + dt.timedelta(days=1 if policy.one_contact_per_day else 0)
    for _ in range(60):
        for band in wanted:
            start, end = BANDS[band]
            lo = dt.datetime.combine(day, start, tzinfo=windows.zone).astimezone(dt.UTC)
            hi = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=windows.zone)
                if end == dt.time.max
                else dt.datetime.combine(day, end, tzinfo=windows.zone)
            ).astimezone(dt.UTC)
            choices = [
                (max(a, lo, earliest), min(b - CLOSING_MARGIN, hi))
                for a, b in windows.intervals_on(day)
            ]
            choices = [(a, b) for a, b in choices if a < b]
            if windows.always_open and earliest < hi:
                choices = [(max(lo, earliest), hi)]
            if choices:
                a, b = rng.choice(choices)
                return a + dt.timedelta(seconds=rng.uniform(0, (b - a).total_seconds()))
        day += dt.timedelta(days=1)
    return windows.next_open(earliest)


def plan_follow_up(
    session: Session,
    *,
    campaign: Campaign,
    pathway: Pathway,
    patient: Patient,
    attempts: list[ContactAttempt],
    now: dt.datetime,
    rng: random.Random | None = None,
) -> ContactAttempt | None:
    """After an attempt ended without a conversation: plan the next one, or mark unreachable."""
    rng = rng or random.Random()  # noqa: S311 - spreading times, not secrets
    policy = parse_policy(campaign.attempt_policy)
    windows = parse_windows(campaign.calling_windows)
    latest = max(attempts, key=lambda a: a.attempt_number)
    number = latest.attempt_number + 1
    # A standing campaign contacts a pathway in many rounds; attempt numbers run on across them
    # (they are the campaign's unique key), and the policy counts the current round's only.
    round_id = latest.validation_round_id
    this_round = [a for a in attempts if a.validation_round_id == round_id]
    in_round = len(this_round) + 1
    channel = Channel.VOICE if in_round <= policy.calls else Channel.SMS
    if in_round > policy.calls and (
        in_round != policy.sms_attempt_number or contact_number(patient, sms=True) is None
    ):
        mark_unreachable(
            session, campaign=campaign, pathway=pathway, note="attempt policy exhausted", now=now
        )
        return None
    previous = [a.dispatched_at or a.due_at for a in this_round]
    due_at = next_attempt_time(
        windows=windows, policy=policy, previous=previous, after=now, rng=rng
    )
    attempt = ContactAttempt(
        **attempt_values(
            campaign, pathway, patient, number, channel, due_at, round_id, latest.call_script_id
        )
    )
    session.add(attempt)
    session.flush()
    return attempt


def plan_identity_retry(
    session: Session,
    *,
    campaign: Campaign,
    pathway: Pathway,
    patient: Patient,
    attempts: list[ContactAttempt],
    now: dt.datetime,
    rng: random.Random | None = None,
) -> ContactAttempt | None:
    """After a call where nobody could confirm the patient's identity: one more call at another
    time of day (within the policy's ``identity_retries``), or None: the worklist has it."""
    rng = rng or random.Random()  # noqa: S311 - spreading times, not secrets
    policy = parse_policy(campaign.attempt_policy)
    unverified = [a for a in attempts if (a.conversation or {}).get("outcome") == "unverified"]
    if len(unverified) > policy.identity_retries or contact_number(patient, sms=False) is None:
        return None
    windows = parse_windows(campaign.calling_windows)
    previous = [a.dispatched_at or a.due_at for a in unverified]
    due_at = next_attempt_time(
        windows=windows, policy=policy, previous=previous, after=now, rng=rng
    )
    number = max(a.attempt_number for a in attempts) + 1
    latest = max(attempts, key=lambda a: a.attempt_number)
    attempt = ContactAttempt(
        **attempt_values(
            campaign,
            pathway,
            patient,
            number,
            Channel.VOICE,
            due_at,
            latest.validation_round_id,
            latest.call_script_id,
        )
    )
    session.add(attempt)
    session.flush()
    return attempt


def mark_unreachable(
    session: Session, *, campaign: Campaign, pathway: Pathway, note: str, now: dt.datetime
) -> None:
    """Record that the policy could not reach the patient (for staff to phone or write)."""
    if pathway.outcome == Outcome.UNREACHABLE:
        return
    record_outcome(
        session,
        pathway=pathway,
        outcome=Outcome.UNREACHABLE,
        campaign_id=campaign.id,
        note=note,
        now=now,
    )
