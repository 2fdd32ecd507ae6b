"""Staff record a validation done by telephone: the script's questions, the same outcome path."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInputError
from app.flows import LoadedScript
from app.models import AuditEvent, Outcome, ReviewItem, ReviewStatus, TaskState, User
from app.outcomes.by_telephone import facts_for, questions, record_phone_validation
from app.outcomes.service import record_outcome
from tests.support.factories import make_pathway
from tests.worklist.conftest import MONDAY_NOON, open_tasks, patient_of


def _unverified(session: Session):  # type: ignore[no-untyped-def]
    pathway = make_pathway(session, specialty_name="Trauma and Orthopaedics")
    record_outcome(session, pathway=pathway, outcome=Outcome.UNVERIFIED, now=MONDAY_NOON)
    [task] = open_tasks(session, pathway)
    facts = facts_for(
        patient_of(session, pathway), pathway, organisation="Example NHS", callback="0113 496 0000"
    )
    return pathway, task, facts


def test_the_form_asks_the_scripts_own_questions(
    db_session: Session, english: LoadedScript
) -> None:
    _, _, facts = _unverified(db_session)
    asked = questions(english, facts)
    assert [q.step for q in asked] == ["still_needed", "condition", "mutual_aid"]
    assert "Ada" in asked[0].prompt and "Trauma and Orthopaedics" in asked[0].prompt


def test_a_patient_who_no_longer_needs_it_goes_to_review_as_leave(
    db_session: Session, english: LoadedScript, erin: User
) -> None:
    pathway, task, facts = _unverified(db_session)
    entry = record_phone_validation(
        db_session,
        task_id=task.id,
        script=english,
        facts=facts,
        answers={"still_needed": "2"},
        identity_confirmed=True,
        actor=erin,
    )
    assert entry.outcome == Outcome.LEAVE
    assert entry.recorded["entered_by_staff"] == erin.username
    assert entry.recorded["still_needed"] is False
    db_session.refresh(task)
    assert (task.state, task.outcome) == (TaskState.DONE, "validated_leave")
    item = db_session.scalars(
        select(ReviewItem).where(
            ReviewItem.pathway_id == pathway.id, ReviewItem.status == ReviewStatus.OPEN
        )
    ).one()
    assert item.reason == "leave"
    assert db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "worklist_task.phone_validation")
    ).all()


def test_a_worse_condition_reaches_worsened(
    db_session: Session, english: LoadedScript, erin: User
) -> None:
    _, task, facts = _unverified(db_session)
    entry = record_phone_validation(
        db_session,
        task_id=task.id,
        script=english,
        facts=facts,
        answers={"still_needed": "1", "condition": "1"},
        identity_confirmed=True,
        actor=erin,
    )
    assert entry.outcome == Outcome.WORSENED


def test_a_missing_answer_on_the_path_is_refused_and_nothing_changes(
    db_session: Session, english: LoadedScript, erin: User
) -> None:
    pathway, task, facts = _unverified(db_session)
    with pytest.raises(InvalidInputError, match="condition"):
        record_phone_validation(
            db_session,
            task_id=task.id,
            script=english,
            facts=facts,
            answers={"still_needed": "1"},
            identity_confirmed=True,
            actor=erin,
        )
    assert task.state == TaskState.OPEN
    assert pathway.outcome == Outcome.UNVERIFIED


def test_identity_must_be_confirmed_first(
    db_session: Session, english: LoadedScript, erin: User
) -> None:
    _, task, facts = _unverified(db_session)
    with pytest.raises(InvalidInputError, match="identity"):
        record_phone_validation(
            db_session,
            task_id=task.id,
            script=english,
            facts=facts,
            answers={"still_needed": "1", "condition": "2", "mutual_aid": "1"},
            identity_confirmed=False,
            actor=erin,
        )
