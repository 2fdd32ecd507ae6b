"""The daily selection: due pathways contacted once a day, never within the interval."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.campaigns.scheduled import complete_finished_campaigns, start_due_campaigns
from app.campaigns.schedules import create_schedule, run_due_schedules, run_schedule
from app.config import Settings
from app.flows import load_registry
from app.models import (
    Campaign,
    CampaignStatus,
    ContactAttempt,
    Outcome,
    Patient,
    ValidationSchedule,
)
from app.outcomes.service import record_outcome
from app.reports.dashboard import build_dashboard
from tests.campaigns.support import ALWAYS_OPEN
from tests.support.factories import make_cohort, make_pathway

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _weeks_ago(weeks: int, days: int = 0) -> dt.date:
    return (NOW - dt.timedelta(weeks=weeks, days=days)).date()


def _schedule(session: Session, settings: Settings, cohort_id: int) -> ValidationSchedule:
    return create_schedule(
        session,
        registry=load_registry(settings.flows_path),
        name="Rolling",
        cohort_id=cohort_id,
        flow_id="standard-validation",
        provider_name="simulator",
        account_calls_per_second=5.0,
        calling_windows=ALWAYS_OPEN,
        simulated=True,
        window_days=0,
        created_by="test",
        now=NOW,
    )


def _attempts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ContactAttempt)) or 0)


def test_the_dashboard_shows_what_falls_due_next_week(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(14))  # overdue
    make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(11, 3))  # in 4 days
    make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(2))  # in 10 weeks
    _schedule(db_session, settings, cohort.id)

    dashboard = build_dashboard(db_session, now=NOW)

    assert (dashboard.schedule.overdue, dashboard.schedule.due_next_week) == (1, 1)


def test_each_schedule_runs_once_a_day_and_its_campaign_never_completes(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(13))
    schedule = _schedule(db_session, settings, cohort.id)
    start_due_campaigns(db_session, now=NOW)

    [run] = run_due_schedules(db_session, now=NOW)
    assert run.planned == 1
    assert run_due_schedules(db_session, now=NOW + dt.timedelta(hours=3)) == []
    db_session.execute(update(ContactAttempt).values(status="cancelled"))  # nothing in flight
    complete_finished_campaigns(db_session, now=NOW)
    campaign = db_session.get(Campaign, schedule.campaign_id)
    assert campaign is not None
    db_session.refresh(campaign)
    assert campaign.status == CampaignStatus.RUNNING


def test_a_pathway_validated_by_staff_within_the_interval_is_not_contacted(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    staff_checked = make_pathway(
        db_session,
        cohort=cohort,
        clock_start_date=_weeks_ago(30),
        last_validated_date=_weeks_ago(0, 3),
    )
    _schedule(db_session, settings, cohort.id)
    # The due date was set from the staff validation: not due for 12 weeks.
    assert staff_checked.next_due_date == _weeks_ago(0, 3) + dt.timedelta(weeks=12)
    staff_checked.next_due_date = NOW.date()  # say a stale due date survived

    run = run_schedule(db_session, schedule=_only(db_session), now=NOW)

    assert (run.planned, run.skipped) == (0, {"validated_recently": 1})
    assert staff_checked.next_due_date > NOW.date()
    assert _attempts(db_session) == 0


def test_a_new_round_asks_again_a_patient_who_said_stay(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    pathway = make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(13))
    record_outcome(
        db_session, pathway=pathway, outcome=Outcome.STAY, now=NOW - dt.timedelta(weeks=13)
    )
    _schedule(db_session, settings, cohort.id)

    run = run_schedule(db_session, schedule=_only(db_session), now=NOW)

    assert run.planned == 1, "the stay was 13 weeks ago: due again"
    assert pathway.outcome == Outcome.PENDING


def _only(session: Session) -> ValidationSchedule:
    return session.scalars(select(ValidationSchedule)).one()


def test_a_pathway_that_cannot_be_contacted_today_keeps_a_later_due_date(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    pathway = make_pathway(db_session, cohort=cohort, clock_start_date=_weeks_ago(13))
    _schedule(db_session, settings, cohort.id)
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    patient.opted_out_at = NOW - dt.timedelta(days=1)

    run = run_schedule(db_session, schedule=_only(db_session), now=NOW)

    assert run.skipped == {"opted_out": 1}
    assert pathway.next_due_date is not None, "never dropped from the cycle"
    assert pathway.next_due_date > NOW.date()
