"""A schedule's standing campaign routes language as a campaign does (one helper decides): the
patient's approved translation, or a person when their language has none, never the wrong call."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.schedules import create_schedule, run_schedule
from app.config import Settings
from app.flows import load_registry
from app.models import CallScript, ContactAttempt, Pathway, TaskReason, TaskState, WorklistTask
from tests.support.factories import make_cohort, make_pathway

MONDAY_10AM = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DUE = (MONDAY_10AM - dt.timedelta(weeks=13)).date()


def _open_tasks(session: Session, pathway: Pathway) -> set[TaskReason]:
    return set(
        session.scalars(
            select(WorklistTask.reason).where(
                WorklistTask.pathway_id == pathway.id, WorklistTask.state == TaskState.OPEN
            )
        )
    )


def test_a_schedule_calls_each_patient_in_their_language_or_hands_them_to_a_person(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    english = make_pathway(db_session, cohort=cohort, clock_start_date=DUE)
    welsh = make_pathway(db_session, cohort=cohort, clock_start_date=DUE, preferred_language="cy")
    polish = make_pathway(db_session, cohort=cohort, clock_start_date=DUE, preferred_language="pl")
    schedule = create_schedule(
        db_session,
        registry=load_registry(settings.flows_path),
        name="Rolling",
        cohort_id=cohort.id,
        flow_id="standard-validation",
        provider_name="twilio",
        account_calls_per_second=5.0,
        window_days=0,
        created_by="test",
        now=MONDAY_10AM,
    )

    run = run_schedule(db_session, schedule=schedule, now=MONDAY_10AM)

    attempts = {
        a.pathway_id: a
        for a in db_session.scalars(
            select(ContactAttempt).where(ContactAttempt.campaign_id == schedule.campaign_id)
        )
    }
    assert set(attempts) == {english.id, welsh.id}
    assert attempts[english.id].call_script_id is None  # the campaign's own (English) script
    welsh_script = db_session.get(CallScript, attempts[welsh.id].call_script_id)
    assert welsh_script is not None and welsh_script.flow_id == "standard-validation-cy"
    assert welsh_script.approved_at is not None
    assert _open_tasks(db_session, polish) == {TaskReason.LANGUAGE}
    assert _open_tasks(db_session, welsh) == set()
    assert run.skipped == {"worklist:language": 1}
    # Still in the cycle: asked again at its next due date (a translation may be approved by then).
    assert polish.next_due_date is not None and polish.next_due_date > MONDAY_10AM.date()
