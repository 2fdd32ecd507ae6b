from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.models import (
    AuditEvent,
    ClinicalDecision,
    Decision,
    Outcome,
    Pathway,
    Patient,
    ReviewItem,
    ReviewStatus,
    User,
)
from app.outcomes.service import record_outcome
from app.review.decisions import decide, suggest_rtt_status_code, undo_removal
from app.review.item import view_item
from tests.review.conftest import MONDAY_NOON, queue_pathway

LATER = MONDAY_NOON + dt.timedelta(hours=1)


def remove(session: Session, item: ReviewItem, by: User, **kw: object) -> ClinicalDecision:
    return decide(
        session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.REMOVE,
        rtt_status_code="35",
        note="Patient has had surgery privately.",
        by=by,
        now=LATER,
        **kw,  # type: ignore[arg-type]
    )


def test_a_clinician_removes_an_item_with_a_confirmed_code(
    db_session: Session, alice: User
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE)

    decision = remove(db_session, item, alice)

    assert (decision.decision, decision.rtt_status_code, decision.decided_by_id) == (
        Decision.REMOVE,
        "35",
        alice.id,
    )
    assert decision.undoable_until == LATER + dt.timedelta(days=14)
    assert (item.status, item.decided_by_id, item.decided_at) == (
        ReviewStatus.DECIDED,
        alice.id,
        LATER,
    )


def test_the_candidate_code_follows_the_answer_and_a_recorded_death(
    db_session: Session,
) -> None:
    leave = queue_pathway(db_session, outcome=Outcome.LEAVE)
    unclear = queue_pathway(db_session, outcome=Outcome.UNCLEAR)
    died = queue_pathway(db_session, outcome=Outcome.LEAVE, date_of_death=dt.date(2026, 11, 1))

    def suggestion(item: ReviewItem) -> str:
        pathway = db_session.get(Pathway, item.pathway_id)
        assert pathway is not None
        patient = db_session.get(Patient, pathway.patient_id)
        assert patient is not None
        return suggest_rtt_status_code(reason=item.reason, patient=patient, pathway=pathway)

    assert [suggestion(i) for i in (leave, unclear, died)] == ["35", "34", "36"]


@pytest.mark.parametrize(
    ("decision", "fields", "message"),
    [
        (Decision.REMOVE, {"note": "   "}, "note"),
        (Decision.REMOVE, {"rtt_status_code": None}, "RTT status code"),
        (Decision.REMOVE, {"rtt_status_code": "30"}, "RTT status code"),
        (Decision.KEEP, {"rtt_status_code": "34"}, "only recorded for a removal"),
        (Decision.EXPEDITE, {"new_priority": None}, "new priority"),
        (Decision.EXPEDITE, {"new_priority": "P5"}, "raise the priority above P3"),
    ],
)
def test_it_refuses_incomplete_decisions(
    db_session: Session, alice: User, decision: Decision, fields: dict[str, str], message: str
) -> None:
    item = queue_pathway(db_session, priority="P3")
    values: dict[str, object] = {"note": "Reviewed.", "rtt_status_code": None}
    values.update(fields)
    with pytest.raises(InvalidInputError, match=message):
        decide(
            db_session,
            item_id=item.id,
            seen_version=item.version,
            decision=decision,
            by=alice,
            **values,  # type: ignore[arg-type]
        )
    assert item.status == ReviewStatus.OPEN


def test_expedite_records_the_raised_priority(db_session: Session, alice: User) -> None:
    item = queue_pathway(db_session, outcome=Outcome.WORSENED, priority="P3")

    decision = decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.EXPEDITE,
        new_priority="P2",
        note="Worse pain at night.",
        by=alice,
    )

    assert (decision.new_priority, decision.undoable_until) == ("P2", None)


def test_a_coordinator_cannot_decide(db_session: Session, bob: User) -> None:
    item = queue_pathway(db_session)
    with pytest.raises(PermissionDeniedError):
        remove(db_session, item, bob)
    assert item.status == ReviewStatus.OPEN


def test_the_second_clinician_is_told_who_decided_and_when(
    db_session: Session, alice: User, dora: User
) -> None:
    item = queue_pathway(db_session)
    seen = item.version
    remove(db_session, item, alice)

    with pytest.raises(ConflictError, match="Already decided by Alice on 23 Nov 2026 at 13:00"):
        decide(
            db_session,
            item_id=item.id,
            seen_version=seen,
            decision=Decision.KEEP,
            note="Keep.",
            by=dora,
        )
    assert len(db_session.scalars(select(ClinicalDecision)).all()) == 1


def test_a_decision_on_a_stale_view_is_refused_when_the_patient_answered_again(
    db_session: Session, alice: User
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE)
    seen = item.version
    pathway = db_session.get(Pathway, item.pathway_id)
    assert pathway is not None
    record_outcome(db_session, pathway=pathway, outcome=Outcome.WORSENED, now=LATER)

    with pytest.raises(ConflictError, match="patient answered again"):
        decide(
            db_session,
            item_id=item.id,
            seen_version=seen,
            decision=Decision.REMOVE,
            rtt_status_code="35",
            note="Wants to leave.",
            by=alice,
        )


def test_decisions_and_views_are_audited(db_session: Session, alice: User, bob: User) -> None:
    item = queue_pathway(db_session)
    view_item(db_session, item_id=item.id, viewer=bob, now=LATER)
    remove(db_session, item, alice)

    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.pathway_id == item.pathway_id).order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_user_id, e.action, e.entity_id) for e in events] == [
        (bob.id, "review_item.viewed", str(item.id)),
        (alice.id, "review_item.decided", str(item.id)),
    ]
    assert events[1].detail["decision"] == "remove"
    assert events[1].detail["rtt_status_code"] == "35"


def test_a_clinician_can_undo_a_removal_within_the_window(db_session: Session, alice: User) -> None:
    item = queue_pathway(db_session)
    decision = remove(db_session, item, alice, undo_days=14)

    reopened = undo_removal(
        db_session,
        decision_id=decision.id,
        by=alice,
        reason="changed my mind",
        now=LATER + dt.timedelta(days=13),
    )

    assert reopened.id == item.id
    assert (reopened.status, reopened.decided_by_id) == (ReviewStatus.OPEN, None)
    assert decision.undone_by_id == alice.id


def test_a_removal_cannot_be_undone_after_the_window(db_session: Session, alice: User) -> None:
    item = queue_pathway(db_session)
    decision = remove(db_session, item, alice, undo_days=14)

    with pytest.raises(ConflictError, match="window"):
        undo_removal(
            db_session,
            decision_id=decision.id,
            by=alice,
            reason="too late",
            now=LATER + dt.timedelta(days=14),
        )


def test_a_patient_who_replies_within_the_window_goes_back_to_the_queue(
    db_session: Session, alice: User
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE)
    decision = remove(db_session, item, alice, undo_days=14)
    pathway = db_session.get(Pathway, item.pathway_id)
    assert pathway is not None

    record_outcome(
        db_session, pathway=pathway, outcome=Outcome.STAY, now=LATER + dt.timedelta(days=3)
    )

    db_session.refresh(item)
    assert (item.status, item.reason) == (ReviewStatus.OPEN, "stay")
    assert decision.undone_at == LATER + dt.timedelta(days=3)
    assert decision.undone_by_id is None
    open_items = db_session.scalars(
        select(ReviewItem).where(
            ReviewItem.pathway_id == pathway.id, ReviewItem.status == ReviewStatus.OPEN
        )
    ).all()
    assert open_items == [item]


def test_a_reply_after_the_window_leaves_the_removal_alone(
    db_session: Session, alice: User
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE)
    decision = remove(db_session, item, alice, undo_days=14)
    pathway = db_session.get(Pathway, item.pathway_id)
    assert pathway is not None

    record_outcome(
        db_session, pathway=pathway, outcome=Outcome.STAY, now=LATER + dt.timedelta(days=15)
    )

    db_session.refresh(item)
    assert item.status == ReviewStatus.DECIDED
    assert decision.undone_at is None
