"""Language and access: the patient's own approved script, or a person, never the wrong call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns import service
from app.campaigns.languages import LanguageRouter
from app.conversations.context import ConversationContext
from app.conversations.dialogue import Subject, load_subject
from app.eligibility.rules import load_rules
from app.eligibility.service import evaluate_cohort
from app.flows import ScriptRegistry, load_registry
from app.models import (
    AuditEvent,
    CallScript,
    Campaign,
    Cohort,
    ContactAttempt,
    Pathway,
    Patient,
    TaskReason,
    TaskState,
    WorklistTask,
)
from app.worklist.tasks import open_task
from tests.support.factories import make_cohort, make_pathway

ROOT = Path(__file__).resolve().parents[2]
MONDAY_8AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def _tasks(session: Session, pathway: Pathway) -> set[TaskReason]:
    return set(
        session.scalars(
            select(WorklistTask.reason).where(
                WorklistTask.pathway_id == pathway.id, WorklistTask.state == TaskState.OPEN
            )
        )
    )


def _campaign(session: Session, *, registry: ScriptRegistry, cohort: Cohort) -> Campaign:
    """A campaign of the standard script over ``cohort`` (its translations stored too)."""
    return service.create_campaign_from_flow(
        session,
        registry=registry,
        flow_id="standard-validation",
        name="Language routing",
        cohort_id=cohort.id,
        provider_name="twilio",
        account_calls_per_second=1.0,
        timezone="Europe/London",
        created_by="bob",
    )


def test_each_patient_is_routed_to_their_language_or_to_a_person(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    english = make_pathway(db_session, cohort=cohort)
    welsh = make_pathway(db_session, cohort=cohort, preferred_language="cy")
    polish = make_pathway(db_session, cohort=cohort, preferred_language="pl")
    interpreter = make_pathway(db_session, cohort=cohort, interpreter_required=True)
    disability = make_pathway(db_session, cohort=cohort, flags=["learning_disability"])
    adjustment = make_pathway(db_session, cohort=cohort, flags=["reasonable_adjustment"])
    cancer = make_pathway(db_session, cohort=cohort, flags=["cancer_pathway"])
    evaluate_cohort(
        db_session,
        cohort_id=cohort.id,
        rules=load_rules(ROOT / "exclusions"),
        on_date=MONDAY_8AM.date(),
    )
    registry = load_registry(ROOT / "call_flows")
    campaign = _campaign(db_session, registry=registry, cohort=cohort)
    service.start_campaign(db_session, campaign_id=campaign.id, actor="bob", now=MONDAY_8AM)

    attempts = {
        a.pathway_id: a
        for a in db_session.scalars(
            select(ContactAttempt).where(ContactAttempt.campaign_id == campaign.id)
        )
    }
    assert set(attempts) == {english.id, welsh.id}
    assert attempts[english.id].call_script_id is None
    welsh_script = db_session.get(CallScript, attempts[welsh.id].call_script_id)
    assert welsh_script is not None and welsh_script.flow_id == "standard-validation-cy"
    assert _tasks(db_session, polish) == {TaskReason.LANGUAGE}
    assert _tasks(db_session, interpreter) == {TaskReason.LANGUAGE}
    assert _tasks(db_session, disability) == {TaskReason.ACCESS}
    assert _tasks(db_session, adjustment) == {TaskReason.ACCESS}
    assert _tasks(db_session, cancer) == {TaskReason.ACCESS}
    report = service.campaign_status(db_session, campaign_id=campaign.id)
    assert report.routed == {
        "standard-validation": 1,
        "standard-validation-cy": 1,
        "worklist:access": 3,
        "worklist:language": 2,
    }

    context = ConversationContext(
        registry=registry,
        public_base_url="https://waitlist.example.nhs.uk",
        organisation_name="Example NHS",
        callback_number="0113 496 0000",
    )
    subject = load_subject(db_session, attempt=attempts[welsh.id], context=context)
    assert isinstance(subject, Subject) and subject.script.id == "standard-validation-cy"


def test_a_re_import_does_not_reopen_a_follow_up_staff_have_done(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    pathway = make_pathway(db_session, cohort=cohort, flags=["cancer_pathway"])
    rules = load_rules(ROOT / "exclusions")
    evaluate_cohort(db_session, cohort_id=cohort.id, rules=rules, on_date=MONDAY_8AM.date())
    task = db_session.scalars(
        select(WorklistTask).where(WorklistTask.pathway_id == pathway.id)
    ).one()
    task.state = TaskState.DONE
    db_session.flush()
    evaluate_cohort(db_session, cohort_id=cohort.id, rules=rules, on_date=MONDAY_8AM.date())
    assert _tasks(db_session, pathway) == set()


def test_planning_hands_a_patient_over_for_language_once_while_the_task_is_open(
    db_session: Session,
) -> None:
    """The day's language tasks are opened together; one already open is not opened again."""
    cohort = make_cohort(db_session)
    waiting = make_pathway(db_session, cohort=cohort, preferred_language="pl")
    new = make_pathway(db_session, cohort=cohort, preferred_language="pl")
    english = make_pathway(db_session, cohort=cohort)
    campaign = _campaign(db_session, registry=load_registry(ROOT / "call_flows"), cohort=cohort)
    earlier = open_task(db_session, pathway=waiting, reason=TaskReason.LANGUAGE, now=MONDAY_8AM)
    script = db_session.get(CallScript, campaign.call_script_id)
    assert script is not None
    router = LanguageRouter({"en": script}, campaign=campaign)

    heard = {
        p.id: router.script_for(p, patient)
        for p in (waiting, new, english)
        if (patient := db_session.get(Patient, p.patient_id)) is not None
    }
    assert heard == {waiting.id: None, new.id: None, english.id: script}
    assert router.hand_over(db_session, now=MONDAY_8AM) == 1

    def open_language_tasks(pathway: Pathway) -> list[WorklistTask]:
        return list(
            db_session.scalars(
                select(WorklistTask).where(
                    WorklistTask.pathway_id == pathway.id,
                    WorklistTask.reason == TaskReason.LANGUAGE,
                    WorklistTask.state == TaskState.OPEN,
                )
            )
        )

    assert [t.id for t in open_language_tasks(waiting)] == [earlier.id]
    (opened,) = open_language_tasks(new)
    assert (opened.campaign_id, opened.detail) == (
        campaign.id,
        "No approved script in the language pl",
    )
    assert open_language_tasks(english) == []
    audited = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "worklist_task.opened", AuditEvent.entity_id == str(opened.id)
        )
    ).one()
    assert audited.pathway_id == new.id
    assert audited.detail["campaign_id"] == campaign.id
    assert router.hand_over(db_session, now=MONDAY_8AM) == 0  # nothing left to hand over
