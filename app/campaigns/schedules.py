"""Rolling schedules: each day, the pathways falling due are contacted under one standing campaign.

The selection is an index range (``ix_pathway_next_due``: cohort, status, next due date), so a
national list costs what is due today, not a scan. Calling hours and the rate cap are the standing
campaign's own: first calls are spread inside its windows at its rate, and the dispatcher checks
both again at placing time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.campaigns.eligibility import Block, contact_number, pathway_facts
from app.campaigns.languages import LanguageRouter, scripts_by_language
from app.campaigns.planning import (
    PlannedCall,
    day_capacity,
    mark_unreachable,
    place_first_calls,
    spread_due_times,
)
from app.campaigns.service import create_campaign_from_flow, transition
from app.campaigns.windows import parse_windows
from app.config import DEFAULT_TIMEZONE
from app.db import changed, utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.flows import ScriptRegistry
from app.models import (
    CallScript,
    Campaign,
    CampaignStatus,
    ContactAttempt,
    Decision,
    Pathway,
    PathwayStatus,
    Patient,
    RoundStatus,
    ScheduleStatus,
    TaskReason,
    ValidationRound,
    ValidationSchedule,
)
from app.validation import rounds
from app.validation.rules import DEFAULT_WINDOW_DAYS, DueRule, make_rule

FILL_BATCH = 5000


@dataclass(frozen=True)
class DailyRun:
    """What one day's selection did for a schedule."""

    schedule_id: int
    run_date: dt.date
    selected: int
    planned: int
    unreachable: int
    skipped: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return self.__dict__ | {"run_date": self.run_date.isoformat()}


def rule_of(schedule: ValidationSchedule) -> DueRule:
    """The schedule's due rule."""
    return DueRule(
        milestones=tuple(schedule.milestone_weeks),
        every=schedule.every_weeks,
        after=schedule.after_validation_weeks,
    )


def get_schedule(session: Session, *, schedule_id: int) -> ValidationSchedule:
    """The schedule, or NotFoundError."""
    schedule = session.get(ValidationSchedule, schedule_id)
    if schedule is None:
        raise NotFoundError(f"schedule {schedule_id} does not exist")
    return schedule


def create_schedule(
    session: Session,
    *,
    registry: ScriptRegistry,
    name: str,
    cohort_id: int,
    flow_id: str,
    provider_name: str,
    account_calls_per_second: float,
    milestones: list[int] | None = None,
    every_weeks: int | None = None,
    after_validation_weeks: int | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    daily_limit: int | None = None,
    calling_windows: dict[str, Any] | None = None,
    attempt_policy: dict[str, Any] | None = None,
    calls_per_second: float | None = None,
    simulated: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
    created_by: str,
    now: dt.datetime | None = None,
) -> ValidationSchedule:
    """A schedule over a cohort with its standing campaign; every pathway gets its due date."""
    now = now or utcnow()
    rule = make_rule(milestones=milestones, every=every_weeks, after=after_validation_weeks)
    if not 0 <= window_days <= 28:
        raise InvalidInputError("the delivery window must be 0 to 28 days", field="window_days")
    if daily_limit is not None and daily_limit < 1:
        raise InvalidInputError("the daily limit must be at least 1", field="daily_limit")
    if session.scalar(select(exists().where(ValidationSchedule.cohort_id == cohort_id))):
        raise ConflictError(f"cohort {cohort_id} already has a schedule", field="cohort_id")
    campaign = create_campaign_from_flow(
        session,
        registry=registry,
        flow_id=flow_id,
        name=f"{name} (standing)",
        cohort_id=cohort_id,
        provider_name=provider_name,
        account_calls_per_second=account_calls_per_second,
        calling_windows=calling_windows,
        attempt_policy=attempt_policy,
        calls_per_second=calls_per_second,
        simulated=simulated,
        timezone=timezone,
        created_by=created_by,
    )
    # Scheduled, not planned: the worker starts it, and the daily selection feeds it.
    transition(session, campaign_id=campaign.id, to=CampaignStatus.SCHEDULED, actor=created_by)
    schedule = ValidationSchedule(
        name=name,
        cohort_id=cohort_id,
        campaign_id=campaign.id,
        status=ScheduleStatus.ACTIVE,
        milestone_weeks=list(rule.milestones),
        every_weeks=rule.every,
        after_validation_weeks=rule.after,
        window_days=window_days,
        daily_limit=daily_limit,
        created_by=created_by,
        created_at=now,
    )
    session.add(schedule)
    session.flush()
    fill_due_dates(session, schedule=schedule)
    audit.record(
        session,
        actor=created_by,
        action="schedule.create",
        entity_type="validation_schedule",
        entity_id=schedule.id,
    )
    return schedule


def set_status(
    session: Session, *, schedule_id: int, to: ScheduleStatus, actor: str
) -> ValidationSchedule:
    """Pause or resume the daily selection (contacts already planned go on)."""
    schedule = get_schedule(session, schedule_id=schedule_id)
    # One guarded UPDATE: two operators pausing at once cannot both succeed.
    moved = changed(
        session.execute(
            update(ValidationSchedule)
            .where(ValidationSchedule.id == schedule_id, ValidationSchedule.status != to)
            .values(status=to)
            .execution_options(synchronize_session=False)
        )
    )
    if not moved:
        raise ConflictError(f"schedule {schedule_id} is already {to}")
    session.refresh(schedule)
    audit.record(
        session,
        actor=actor,
        action=f"schedule.{to}",
        entity_type="validation_schedule",
        entity_id=schedule_id,
    )
    return schedule


def fill_due_dates(session: Session, *, schedule: ValidationSchedule) -> int:
    """Give a due date to every open pathway of the cohort that has none and no round under way.

    New pathways from an import, and those whose last round closed before the schedule existed.
    A removed pathway (not undone) is left without one: it is leaving the list.
    """
    rule = rule_of(schedule)
    under_way = exists().where(
        ValidationRound.pathway_id == Pathway.id,
        or_(
            ValidationRound.status == RoundStatus.OPEN,
            ValidationRound.decision == Decision.REMOVE,
        ),
    )
    filled = 0
    while True:
        pathways = list(
            session.scalars(
                select(Pathway)
                .where(
                    Pathway.cohort_id == schedule.cohort_id,
                    Pathway.status == PathwayStatus.OPEN,
                    Pathway.next_due_date.is_(None),
                    ~under_way,
                )
                .order_by(Pathway.id)
                .limit(FILL_BATCH)
            )
        )
        if not pathways:
            return filled
        latest = rounds.current_rounds(session, [p.id for p in pathways])
        for pathway in pathways:
            last = latest.get(pathway.id)
            reference = last.closed_at.date() if last and last.closed_at else None
            rounds.schedule_next(session, pathway=pathway, reference=reference, rule=rule)
        session.flush()
        filled += len(pathways)


def run_schedule(
    session: Session,
    *,
    schedule: ValidationSchedule,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> DailyRun:
    """Open a round for each pathway due within the window and plan its first call.

    Up to the daily limit (by default what the standing campaign's rate fits in a calling day),
    most overdue first; the rest stay due and are taken on the next day.
    """
    rng = rng or random.Random()  # noqa: S311 - spreading times, not secrets
    campaign = session.get(Campaign, schedule.campaign_id)
    assert campaign is not None
    windows = parse_windows(campaign.calling_windows)
    today = windows.local_date(now)
    skipped: dict[str, int] = defaultdict(int)
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
        skipped[f"campaign_{campaign.status}"] += 1
        return DailyRun(schedule.id, today, 0, 0, 0, dict(skipped))
    rule = rule_of(schedule)
    fill_due_dates(session, schedule=schedule)
    limit = schedule.daily_limit or day_capacity(
        windows, start=now, per_second=campaign.calls_per_second
    )
    horizon = today + dt.timedelta(days=schedule.window_days)
    rows = session.execute(due_selection(schedule.cohort_id, horizon, limit)).all()
    ids = [pathway.id for pathway, _ in rows]
    current, validated = rounds.current_rounds(session, ids), rounds.validated_dates(session, ids)
    campaign_script = session.get(CallScript, campaign.call_script_id)
    assert campaign_script is not None
    router = LanguageRouter(
        scripts_by_language(session, campaign_script=campaign_script, simulated=campaign.simulated),
        campaign=campaign,
    )
    facts = pathway_facts(session, rows)
    # (pathway, patient, round, the script when it is not the campaign's own)
    chosen: list[tuple[Pathway, Patient, ValidationRound, int | None]] = []
    patients: set[int] = set()
    unreachable = 0
    for pathway, patient in rows:
        latest = current.get(pathway.id)
        if latest is not None and latest.status == RoundStatus.OPEN:
            skipped["round_under_way"] += 1
            continue
        if patient.id in patients:
            skipped["patient_contacted_today"] += 1  # the next pathway goes tomorrow
            continue
        ours = validated.get(pathway.id)
        if rounds.recently_validated(pathway, ours=ours, today=today, weeks=rule.after):
            skipped[Block.VALIDATED_RECENTLY.value] += 1
            last = max(d for d in (ours, pathway.last_validated_date) if d is not None)
            rounds.schedule_next(session, pathway=pathway, reference=last, rule=rule)
            continue
        block = facts.block(pathway, patient, new_round=True)
        if block is not None:
            skipped[block.value] += 1
            # Asked again at the next due date: a flag may be lifted, a number added.
            rounds.schedule_next(session, pathway=pathway, reference=today, rule=rule)
            continue
        script = router.script_for(pathway, patient)
        if script is None:  # no approved script in the patient's language: a person has them
            skipped[f"worklist:{TaskReason.LANGUAGE.value}"] += 1
            rounds.schedule_next(session, pathway=pathway, reference=today, rule=rule)
            continue
        due_date = pathway.next_due_date
        entry = rounds.open_round(
            session,
            pathway=pathway,
            now=now,
            due_date=due_date,
            reason=f"schedule {schedule.id}",
            campaign_id=campaign.id,
            previous=latest,
            flush=False,
        )
        patients.add(patient.id)
        if contact_number(patient, sms=False) is None:
            mark_unreachable(
                session, campaign=campaign, pathway=pathway, note="no telephone number", now=now
            )
            unreachable += 1
            continue
        chosen.append(
            (pathway, patient, entry, None if script.id == campaign_script.id else script.id)
        )
    session.flush()  # the rounds opened above, in one batch
    router.hand_over(session, now=now)
    # Attempt numbers run on across rounds under the one campaign (its unique key).
    numbers = dict(
        session.execute(
            select(ContactAttempt.pathway_id, func.max(ContactAttempt.attempt_number))
            .where(
                ContactAttempt.campaign_id == campaign.id,
                ContactAttempt.pathway_id.in_([pathway.id for pathway, *_ in chosen]),
            )
            .group_by(ContactAttempt.pathway_id)
        ).all()
    )
    if chosen:
        due_times = spread_due_times(
            len(chosen),
            windows=windows,
            start=max(now, campaign.starts_at or now),
            per_second=campaign.calls_per_second,
            rng=rng,
        )
        rng.shuffle(due_times)
        # Each new round's first call and its pre-call text (app/campaigns/notices.py).
        place_first_calls(
            session,
            campaign=campaign,
            calls=[
                PlannedCall(
                    pathway, patient, (numbers.get(pathway.id) or 0) + 1, due_at, entry.id, script
                )
                for (pathway, patient, entry, script), due_at in zip(chosen, due_times, strict=True)
            ],
            now=now,
        )
    session.flush()
    return DailyRun(schedule.id, today, len(rows), len(chosen), unreachable, dict(skipped))


def due_selection(cohort_id: int, horizon: dt.date, limit: int) -> Select[Pathway, Patient]:
    """The day's due pathways, most overdue first: a range of ``ix_pathway_next_due``.

    The conditions and the order are exactly the index's columns (cohort, status, next due date,
    id), so the database reads what is due in order and stops at ``limit`` without sorting; see
    tests/validation/test_selection_plan.py.
    """
    return (
        select(Pathway, Patient)
        .join(Patient, Patient.id == Pathway.patient_id)
        .where(
            Pathway.cohort_id == cohort_id,
            Pathway.status == PathwayStatus.OPEN,
            Pathway.next_due_date <= horizon,
        )
        .order_by(Pathway.next_due_date, Pathway.id)
        .limit(limit)
    )


def run_due_schedules(
    session: Session, *, now: dt.datetime, rng: random.Random | None = None
) -> list[DailyRun]:
    """Run each active schedule once per local day (any number of workers may call this).

    The day is claimed by a guarded UPDATE of ``last_run_date``, so two workers run it once.
    """
    runs = []
    for schedule in session.scalars(
        select(ValidationSchedule).where(ValidationSchedule.status == ScheduleStatus.ACTIVE)
    ).all():
        campaign = session.get(Campaign, schedule.campaign_id)
        assert campaign is not None
        today = parse_windows(campaign.calling_windows).local_date(now)
        claimed = session.execute(
            update(ValidationSchedule)
            .where(
                ValidationSchedule.id == schedule.id,
                or_(
                    ValidationSchedule.last_run_date.is_(None),
                    ValidationSchedule.last_run_date < today,
                ),
            )
            .values(last_run_date=today)
            .execution_options(synchronize_session=False)
        )
        if changed(claimed) == 1:
            runs.append(run_schedule(session, schedule=schedule, now=now, rng=rng))
    return runs


@dataclass(frozen=True)
class DueSummary:
    """What is due: overdue, due within the window, falling due next week, rounds under way."""

    as_of: dt.date
    overdue: int
    due_now: int
    due_next_week: int
    under_way: int
    not_scheduled: int

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return self.__dict__ | {"as_of": self.as_of.isoformat()}


def due_summary(
    session: Session, *, today: dt.date, cohort_id: int | None = None, window_days: int = 7
) -> DueSummary:
    """Counts of open pathways by next due date (one grouped pass over the due-date index)."""
    horizon = today + dt.timedelta(days=window_days)
    next_week = today + dt.timedelta(days=7)
    due = Pathway.next_due_date
    where = [Pathway.status == PathwayStatus.OPEN]
    if cohort_id is not None:
        where.append(Pathway.cohort_id == cohort_id)
    # Without a due date and rightly so: a round under way, or a removal (leaving the list).
    accounted_for = exists().where(
        ValidationRound.pathway_id == Pathway.id,
        or_(
            ValidationRound.status == RoundStatus.OPEN,
            ValidationRound.decision == Decision.REMOVE,
        ),
    )
    overdue, due_now, due_next_week = session.execute(
        select(
            func.count().filter(due < today),
            func.count().filter(due >= today, due <= horizon),
            func.count().filter(due > today, due <= next_week),
        ).where(*where)
    ).one()
    # A statement of its own: NOT EXISTS in a WHERE is one anti-join, where inside a FILTER it
    # was a look-up per pathway (4 s for a million pathways without due dates).
    unset = session.scalar(
        select(func.count()).select_from(Pathway).where(*where, due.is_(None), ~accounted_for)
    )
    under_way = session.scalar(
        select(func.count())
        .select_from(ValidationRound)
        .join(Pathway, Pathway.id == ValidationRound.pathway_id)
        .where(ValidationRound.status == RoundStatus.OPEN, *where)
    )
    return DueSummary(
        as_of=today,
        overdue=int(overdue),
        due_now=int(due_now),
        due_next_week=int(due_next_week),
        under_way=int(under_way or 0),
        not_scheduled=int(unset or 0),
    )


@dataclass(frozen=True)
class ScheduleView:
    """A schedule with its standing campaign and what is due."""

    schedule: ValidationSchedule
    campaign: Campaign
    due: DueSummary

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        s = self.schedule
        return {
            "id": s.id,
            "name": s.name,
            "cohort_id": s.cohort_id,
            "campaign_id": s.campaign_id,
            "campaign_status": self.campaign.status.value,
            "status": s.status.value,
            "milestone_weeks": list(s.milestone_weeks),
            "every_weeks": s.every_weeks,
            "after_validation_weeks": s.after_validation_weeks,
            "window_days": s.window_days,
            "daily_limit": s.daily_limit,
            "last_run_date": s.last_run_date.isoformat() if s.last_run_date else None,
            "due": self.due.as_json(),
        }


def view_schedule(session: Session, *, schedule_id: int, today: dt.date) -> ScheduleView:
    """The schedule, its campaign and its due counts."""
    schedule = get_schedule(session, schedule_id=schedule_id)
    campaign = session.get(Campaign, schedule.campaign_id)
    assert campaign is not None
    due = due_summary(
        session, today=today, cohort_id=schedule.cohort_id, window_days=schedule.window_days
    )
    return ScheduleView(schedule=schedule, campaign=campaign, due=due)


def list_schedules(session: Session, *, today: dt.date) -> list[ScheduleView]:
    """Every schedule, newest first."""
    ids = session.scalars(select(ValidationSchedule.id).order_by(ValidationSchedule.id.desc()))
    return [view_schedule(session, schedule_id=i, today=today) for i in list(ids)]


def next_due_dates(
    session: Session, *, schedule_id: int, limit: int = 100
) -> list[tuple[str, str, dt.date | None]]:
    """The pathways next due, soonest first: (pathway reference, specialty, due date)."""
    schedule = get_schedule(session, schedule_id=schedule_id)
    rows = session.execute(
        select(Pathway.pathway_id, Pathway.specialty_code, Pathway.next_due_date)
        .where(
            Pathway.cohort_id == schedule.cohort_id,
            Pathway.status == PathwayStatus.OPEN,
            Pathway.next_due_date.is_not(None),
        )
        .order_by(Pathway.next_due_date, Pathway.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]
