"""Every outcome that hands a patient to a person lands on the worklist with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.models import (
    AuditEvent,
    Decision,
    Outcome,
    Pathway,
    TaskReason,
    TaskState,
    User,
)
from app.outcomes.service import record_outcome
from app.review.decisions import decide
from app.worklist.service import assign_task, complete_task, note_attempt
from tests.review.conftest import queue_pathway
from tests.support.factories import make_pathway
from tests.worklist.conftest import MONDAY_NOON, open_tasks

DEAD_ENDS = [
    (Outcome.UNVERIFIED, {}, TaskReason.UNVERIFIED),
    (Outcome.CALLBACK_REQUESTED, {}, TaskReason.CALLBACK_REQUESTED),
    (Outcome.CALLBACK_REQUESTED, {"reported_deceased": True}, TaskReason.REPORTED_DECEASED),
    (Outcome.UNCLEAR, {}, TaskReason.UNCLEAR),
    (Outcome.UNREACHABLE, {}, TaskReason.UNREACHABLE),
    (Outcome.OPTED_OUT, {}, TaskReason.OPTED_OUT),
]


@pytest.mark.parametrize(("outcome", "recorded", "reason"), DEAD_ENDS)
def test_each_dead_end_opens_a_task_with_its_reason(
    db_session: Session, outcome: Outcome, recorded: dict[str, object], reason: TaskReason
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=outcome, recorded=recorded, now=MONDAY_NOON)
    reasons = {task.reason for task in open_tasks(db_session, pathway)}
    assert reason in reasons
    opened = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "worklist_task.opened", AuditEvent.pathway_id == pathway.id
        )
    ).all()
    assert opened


def test_a_reported_death_is_due_the_next_working_day(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.CALLBACK_REQUESTED,
        recorded={"reported_deceased": True},
        now=MONDAY_NOON,
    )
    [task] = open_tasks(db_session, pathway)
    assert task.due_date.isoformat() == "2026-11-24"


def test_a_second_unverified_call_does_not_open_a_second_task(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    for _ in range(2):
        record_outcome(db_session, pathway=pathway, outcome=Outcome.UNVERIFIED, now=MONDAY_NOON)
    assert len(open_tasks(db_session, pathway)) == 1


def test_a_clear_answer_later_closes_the_unverified_task(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.UNVERIFIED, now=MONDAY_NOON)
    [task] = open_tasks(db_session, pathway)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.STAY, now=MONDAY_NOON)
    db_session.refresh(task)
    assert (task.state, task.outcome) == (TaskState.CANCELLED, "answered_later")


def test_a_clear_answer_keeps_a_call_back_the_patient_asked_for(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.CALLBACK_REQUESTED, now=MONDAY_NOON)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.STAY, now=MONDAY_NOON)
    assert [t.reason for t in open_tasks(db_session, pathway)] == [TaskReason.CALLBACK_REQUESTED]


def test_a_clinicians_call_back_decision_opens_a_task(db_session: Session, alice: User) -> None:
    item = queue_pathway(db_session, outcome=Outcome.UNCLEAR)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.CALL_BACK,
        by=alice,
        note="Ask about the new pain",
    )
    pathway = db_session.get(Pathway, item.pathway_id)
    assert pathway is not None
    tasks = open_tasks(db_session, pathway)
    call_backs = [t for t in tasks if t.reason == TaskReason.CLINICIAN_CALL_BACK]
    assert [t.detail for t in call_backs] == ["Ask about the new pain"]


def test_staff_take_note_and_close_a_task(db_session: Session, erin: User) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.UNREACHABLE, now=MONDAY_NOON)
    task = next(t for t in open_tasks(db_session, pathway) if t.reason == TaskReason.UNREACHABLE)
    assign_task(db_session, task_id=task.id, owner=erin.username, actor=erin)
    note_attempt(
        db_session, task_id=task.id, note="No answer on the landline", actor=erin, now=MONDAY_NOON
    )
    assert task.due_date.isoformat() == "2026-11-25"
    complete_task(
        db_session,
        task_id=task.id,
        outcome="validated_elsewhere",
        note="Seen in clinic on Tuesday",
        actor=erin,
    )
    db_session.refresh(task)
    assert task.state == TaskState.DONE
    assert "No answer on the landline" in (task.note or "")
    assert "Seen in clinic" in (task.note or "")
    with pytest.raises(ConflictError):
        complete_task(db_session, task_id=task.id, outcome="not_needed", note="x", actor=erin)


def test_a_task_is_not_closed_without_an_outcome_and_a_note(
    db_session: Session, erin: User
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.UNVERIFIED, now=MONDAY_NOON)
    [task] = open_tasks(db_session, pathway)
    with pytest.raises(InvalidInputError):
        complete_task(db_session, task_id=task.id, outcome="no_answer", note="x", actor=erin)
    with pytest.raises(InvalidInputError):
        complete_task(db_session, task_id=task.id, outcome="not_needed", note=" ", actor=erin)


def test_an_administrator_reads_but_does_not_work_the_list(
    db_session: Session, charlie: User
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.UNVERIFIED, now=MONDAY_NOON)
    [task] = open_tasks(db_session, pathway)
    with pytest.raises(PermissionDeniedError):
        complete_task(db_session, task_id=task.id, outcome="not_needed", note="x", actor=charlie)
