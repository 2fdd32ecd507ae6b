"""Everything a clinician sees on one review item; every view is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import NotFoundError
from app.models import (
    Answer,
    Campaign,
    ClinicalDecision,
    ContactAttempt,
    Pathway,
    PathwayOutcome,
    Patient,
    ReviewItem,
    ReviewStatus,
    User,
    ValidationRound,
)
from app.review.decisions import suggest_rtt_status_code, undoable_removal
from app.validation.rounds import rounds_of

# "34: decision not to treat" is the fallback code, not something an answer suggests.
GROUNDED_SUGGESTIONS = frozenset({"35", "36"})


@dataclass(frozen=True)
class DecisionView:
    """A past decision on this pathway, with who made it."""

    decision: ClinicalDecision
    decided_by: str
    undone_by: str | None


@dataclass(frozen=True)
class ItemView:
    """The item, the patient and pathway, the whole conversation and the history around it."""

    item: ReviewItem
    pathway: Pathway
    patient: Patient
    answers: list[Answer]
    attempts: list[ContactAttempt]
    outcomes: list[PathwayOutcome]
    decisions: list[DecisionView]
    # Every validation round of the pathway, newest first: what the patient said last time.
    rounds: list[ValidationRound]
    suggested_rtt_status_code: str
    decided_by: str | None
    undoable: ClinicalDecision | None
    weeks_waiting: int
    overdue: bool
    age: int
    campaign_name: str | None
    # The RTT code a removal would most likely carry, only where the patient's answer grounds it
    # (35 for "wants to leave", 36 for a reported death); otherwise the clinician chooses.
    removal_suggestion: str | None
    # The latest conversation's answers that carry the patient's own words or keys, in order.
    said: list[Answer]
    red_flags: list[Answer]

    @property
    def is_open(self) -> bool:
        """Whether a clinician can still decide."""
        return self.item.status == ReviewStatus.OPEN


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    """Whole years of age on ``today``."""
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - before_birthday


def _is_red_flag(answer: Answer) -> bool:
    recorded = answer.recorded or {}
    return bool(recorded.get("red_flag")) or answer.interpretation == "red_flags"


def _what_they_said(answers: list[Answer]) -> list[Answer]:
    """The last conversation's turns where the patient gave an answer we can show."""
    if not answers:
        return []
    last_attempt = answers[-1].contact_attempt_id
    return [
        a
        for a in answers
        if a.contact_attempt_id == last_attempt and a.input_kind != "none" and a.raw_input
    ]


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()
    return {user_id: name for user_id, name in rows}  # noqa: C416 (rows are Row tuples)


def view_item(
    session: Session, *, item_id: int, viewer: User, now: dt.datetime | None = None
) -> ItemView:
    """Load review item ``item_id`` for ``viewer`` and audit that they saw the patient's record."""
    now = now or utcnow()
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFoundError("No such review item.")
    pathway = session.get(Pathway, item.pathway_id)
    assert pathway is not None
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    answers = list(
        session.scalars(
            select(Answer)
            .where(Answer.pathway_id == pathway.id)
            .order_by(Answer.answered_at, Answer.contact_attempt_id, Answer.turn, Answer.id)
        )
    )
    attempts = list(
        session.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.pathway_id == pathway.id)
            .order_by(ContactAttempt.due_at.desc(), ContactAttempt.id.desc())
        )
    )
    outcomes = list(
        session.scalars(
            select(PathwayOutcome)
            .where(PathwayOutcome.pathway_id == pathway.id)
            .order_by(PathwayOutcome.recorded_at.desc(), PathwayOutcome.id.desc())
        )
    )
    decisions = list(
        session.scalars(
            select(ClinicalDecision)
            .where(ClinicalDecision.pathway_id == pathway.id)
            .order_by(ClinicalDecision.decided_at.desc(), ClinicalDecision.id.desc())
        )
    )
    user_ids = {d.decided_by_id for d in decisions} | {
        d.undone_by_id for d in decisions if d.undone_by_id
    }
    if item.decided_by_id:
        user_ids.add(item.decided_by_id)
    names = _names(session, user_ids)
    campaign = session.get(Campaign, item.campaign_id) if item.campaign_id else None
    suggested = suggest_rtt_status_code(reason=item.reason, patient=patient, pathway=pathway)
    audit.record(
        session,
        actor=viewer,
        action="review_item.viewed",
        entity_type="review_item",
        entity_id=item.id,
        pathway_id=pathway.id,
    )
    session.flush()
    return ItemView(
        item=item,
        pathway=pathway,
        patient=patient,
        answers=answers,
        attempts=attempts,
        outcomes=outcomes,
        decisions=[
            DecisionView(
                decision=d,
                decided_by=names.get(d.decided_by_id, "unknown"),
                undone_by=(
                    names.get(d.undone_by_id, "unknown")
                    if d.undone_by_id
                    else ("the patient's reply" if d.undone_at else None)
                ),
            )
            for d in decisions
        ],
        rounds=rounds_of(session, pathway_id=pathway.id),
        suggested_rtt_status_code=suggested,
        decided_by=names.get(item.decided_by_id) if item.decided_by_id else None,
        undoable=undoable_removal(session, pathway_id=pathway.id, now=now),
        weeks_waiting=(now.date() - pathway.clock_start_date).days // 7,
        overdue=item.status == ReviewStatus.OPEN and item.due_at < now,
        age=age_on(patient.date_of_birth, now.date()),
        campaign_name=campaign.name if campaign else None,
        removal_suggestion=suggested if suggested in GROUNDED_SUGGESTIONS else None,
        said=_what_they_said(answers),
        red_flags=[a for a in answers if _is_red_flag(a)],
    )
