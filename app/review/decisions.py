"""Clinical decisions on review items: remove, keep, expedite, call back, and undoing a removal.

Two clinicians may open the same item; the first decision wins through a guarded UPDATE on the
item's ``version`` and the second is told who decided and when. Only clinicians decide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import changed, utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.models import (
    ClinicalDecision,
    Decision,
    Outcome,
    Pathway,
    Patient,
    ReviewItem,
    ReviewStatus,
    Role,
    TaskReason,
    User,
)
from app.validation import rounds
from app.worklist.tasks import open_task

RTT_STATUS_CODES: dict[str, str] = {
    "34": "Decision not to treat",
    "35": "Patient declined treatment",
    "36": "Patient died before treatment",
}
PRIORITIES = ("P1", "P2", "P3", "P4", "P5", "P6")
MAX_NOTE_LENGTH = 2000


def suggest_rtt_status_code(*, reason: str, patient: Patient, pathway: Pathway) -> str:
    """The candidate RTT status for a removal: died (recorded or reported) 36, patient wants to
    leave 35, otherwise 34. A reported death is only a suggestion: staff confirm it first."""
    if (
        patient.date_of_death is not None
        or "deceased" in (pathway.flags or [])
        or reason == Outcome.REPORTED_DECEASED.value
    ):
        return "36"
    if reason == Outcome.LEAVE.value:
        return "35"
    return "34"


def _require_clinician(user: User) -> None:
    if user.role != Role.CLINICIAN or not user.is_active:
        raise PermissionDeniedError("Only clinicians can decide on review items.")


def _conflict(session: Session, item: ReviewItem) -> ConflictError:
    if item.status == ReviewStatus.DECIDED and item.decided_by_id is not None:
        decider = session.get(User, item.decided_by_id)
        name = decider.full_name if decider else "another clinician"
        when = item.decided_at.strftime("%d %b %Y at %H:%M UTC") if item.decided_at else "earlier"
        return ConflictError(f"Already decided by {name} on {when}.")
    return ConflictError(
        "This item changed after you opened it (the patient answered again). Review it again."
    )


def decision_problems(
    *,
    decision: Decision | None,
    rtt_status_code: str | None,
    note: str,
    new_priority: str | None,
    current_priority: str | None = None,
) -> dict[str, str]:
    """Every problem with a decision form at once, by field, so a clinician fixes them together."""
    problems: dict[str, str] = {}
    if decision is None:
        problems["decision"] = "Choose a decision."
    if decision == Decision.REMOVE and rtt_status_code not in RTT_STATUS_CODES:
        problems["rtt_status_code"] = "Confirm the RTT status code for the removal (34, 35 or 36)."
    if decision is not None and decision != Decision.REMOVE and rtt_status_code:
        problems["rtt_status_code"] = "An RTT status code is only recorded for a removal."
    if decision == Decision.EXPEDITE:
        if new_priority not in PRIORITIES:
            problems["new_priority"] = "Choose the new priority (P1 to P6) to expedite."
        elif current_priority and new_priority and new_priority >= current_priority:
            problems["new_priority"] = (
                f"Expediting must raise the priority above {current_priority}."
            )
    if not note.strip():
        problems["note"] = "Enter a note explaining the decision."
    elif len(note) > MAX_NOTE_LENGTH:
        problems["note"] = f"The note must be {MAX_NOTE_LENGTH} characters or fewer."
    return problems


def _validate(
    *,
    decision: Decision,
    rtt_status_code: str | None,
    note: str,
    new_priority: str | None,
    current_priority: str | None,
) -> None:
    problems = decision_problems(
        decision=decision,
        rtt_status_code=rtt_status_code,
        note=note,
        new_priority=new_priority,
        current_priority=current_priority,
    )
    if problems:
        raise InvalidInputError(" ".join(problems.values()))


def decide(
    session: Session,
    *,
    item_id: int,
    seen_version: int,
    decision: Decision,
    by: User,
    note: str,
    rtt_status_code: str | None = None,
    new_priority: str | None = None,
    undo_days: int = 14,
    now: dt.datetime | None = None,
) -> ClinicalDecision:
    """Record ``by``'s decision on the item they saw at ``seen_version``; first decision wins."""
    _require_clinician(by)
    now = now or utcnow()
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFoundError("No such review item.")
    pathway = session.get(Pathway, item.pathway_id)
    assert pathway is not None
    _validate(
        decision=decision,
        rtt_status_code=rtt_status_code,
        note=note,
        new_priority=new_priority,
        current_priority=pathway.priority if decision == Decision.EXPEDITE else None,
    )
    claimed = session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            ReviewItem.version == seen_version,
            ReviewItem.status == ReviewStatus.OPEN,
        )
        .values(
            status=ReviewStatus.DECIDED,
            version=ReviewItem.version + 1,
            decided_at=now,
            decided_by_id=by.id,
        )
        .execution_options(synchronize_session=False)
    )
    if changed(claimed) != 1:
        session.refresh(item)
        raise _conflict(session, item)
    session.refresh(item)
    record = ClinicalDecision(
        review_item_id=item.id,
        pathway_id=item.pathway_id,
        decision=decision,
        rtt_status_code=rtt_status_code if decision == Decision.REMOVE else None,
        new_priority=new_priority if decision == Decision.EXPEDITE else None,
        note=note.strip(),
        decided_by_id=by.id,
        decided_at=now,
        undoable_until=now + dt.timedelta(days=undo_days) if decision == Decision.REMOVE else None,
    )
    session.add(record)
    session.flush()
    # The decision closes the pathway's validation round and sets when it next falls due.
    rounds.on_decision(session, pathway=pathway, decision=record, now=now)
    audit.record(
        session,
        actor=by,
        action="review_item.decided",
        entity_type="review_item",
        entity_id=item.id,
        pathway_id=item.pathway_id,
        detail={
            "decision": decision.value,
            "rtt_status_code": record.rtt_status_code,
            "new_priority": record.new_priority,
            "clinical_decision_id": record.id,
            "version": seen_version,
        },
    )
    if decision == Decision.CALL_BACK:
        # The clinician wants a person to phone the patient: that is a worklist task, not a hope.
        open_task(
            session,
            pathway=pathway,
            reason=TaskReason.CLINICIAN_CALL_BACK,
            detail=record.note,
            campaign_id=item.campaign_id,
            actor=by,
            now=now,
        )
    return record


def undoable_removal(
    session: Session, *, pathway_id: int, now: dt.datetime | None = None
) -> ClinicalDecision | None:
    """The pathway's removal that can still be undone, if there is one."""
    now = now or utcnow()
    return session.scalars(
        select(ClinicalDecision)
        .where(
            ClinicalDecision.pathway_id == pathway_id,
            ClinicalDecision.decision == Decision.REMOVE,
            ClinicalDecision.undone_at.is_(None),
            ClinicalDecision.undoable_until > now,
        )
        .order_by(ClinicalDecision.id.desc())
        .limit(1)
    ).one_or_none()


def undo_removal(
    session: Session,
    *,
    decision_id: int,
    by: User | None,
    reason: str,
    now: dt.datetime | None = None,
) -> ReviewItem:
    """Undo a removal within its window and put the item back in the queue.

    ``by`` is the clinician who changed their mind, or ``None`` when the patient replied again.
    """
    if by is not None:
        _require_clinician(by)
    now = now or utcnow()
    record = session.get(ClinicalDecision, decision_id)
    if record is None or record.decision != Decision.REMOVE:
        raise NotFoundError("No such removal.")
    if record.undoable_until is None or record.undoable_until <= now:
        raise ConflictError("The change-of-mind window for this removal has closed.")
    undone = session.execute(
        update(ClinicalDecision)
        .where(ClinicalDecision.id == decision_id, ClinicalDecision.undone_at.is_(None))
        .values(undone_at=now, undone_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)
    )
    if changed(undone) != 1:
        raise ConflictError("This removal has already been undone.")
    item = _reopen(session, record, opened_at=now)
    pathway = session.get(Pathway, record.pathway_id)
    assert pathway is not None
    rounds.on_removal_undone(session, pathway=pathway, decision=record)
    audit.record(
        session,
        actor=by or "patient reply",
        action="review_item.removal_undone",
        entity_type="review_item",
        entity_id=item.id,
        pathway_id=item.pathway_id,
        detail={"clinical_decision_id": record.id, "reason": reason},
    )
    return item


def _reopen(session: Session, record: ClinicalDecision, **values: Any) -> ReviewItem:
    """Put the decided item back in the queue (one guarded UPDATE) after its decision was undone.

    ``values`` are further columns to set: a removal undone days later re-enters the queue as if
    newly opened, so it is not ranked by its first, long-past arrival.
    """
    reopened = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == record.review_item_id, ReviewItem.status == ReviewStatus.DECIDED)
        .values(
            status=ReviewStatus.OPEN,
            version=ReviewItem.version + 1,
            decided_at=None,
            decided_by_id=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if changed(reopened) != 1:
        raise ConflictError("The review item is already open.")
    session.refresh(record)
    item = session.get(ReviewItem, record.review_item_id)
    assert item is not None
    session.refresh(item)
    return item


# A keep, expedite or call-back can be taken back this long after it was made, by the clinician
# who made it, until it is exported (a removal has its own, longer change-of-mind window).
UNDO_GRACE = dt.timedelta(minutes=30)


def undo_decision(
    session: Session, *, decision_id: int, by: User, now: dt.datetime | None = None
) -> ReviewItem:
    """Take back ``by``'s own recent decision (the banner's "Undo") and reopen the item."""
    _require_clinician(by)
    now = now or utcnow()
    record = session.get(ClinicalDecision, decision_id)
    if record is None:
        raise NotFoundError("No such decision.")
    if record.decision == Decision.REMOVE:
        return undo_removal(session, decision_id=decision_id, by=by, reason="clinician undid")
    if record.decided_by_id != by.id:
        raise ConflictError("Only the clinician who made this decision can undo it here.")
    if record.exported_at is not None:
        raise ConflictError("This decision has already been exported to the PAS.")
    if record.decided_at + UNDO_GRACE <= now:
        raise ConflictError("This decision can no longer be undone here; review the item again.")
    undone = session.execute(
        update(ClinicalDecision)
        .where(
            ClinicalDecision.id == decision_id,
            ClinicalDecision.undone_at.is_(None),
            ClinicalDecision.exported_at.is_(None),
        )
        .values(undone_at=now, undone_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if changed(undone) != 1:
        raise ConflictError("This decision has already been undone or exported.")
    item = _reopen(session, record)
    audit.record(
        session,
        actor=by,
        action="review_item.decision_undone",
        entity_type="review_item",
        entity_id=item.id,
        pathway_id=item.pathway_id,
        detail={"clinical_decision_id": record.id, "decision": record.decision.value},
    )
    return item


@dataclass(frozen=True)
class DecidedSummary:
    """What the banner after a decision names: the patient, the decision, whether undo is open."""

    decision_id: int
    item_id: int
    patient_name: str
    decision: Decision
    rtt_status_code: str | None
    new_priority: str | None
    undoable: bool


def decided_summary(
    session: Session, *, decision_id: int, by: User, now: dt.datetime | None = None
) -> DecidedSummary | None:
    """The banner's facts about ``by``'s decision ``decision_id``; ``None`` if not theirs."""
    now = now or utcnow()
    record = session.get(ClinicalDecision, decision_id)
    if record is None or record.decided_by_id != by.id:
        return None
    pathway = session.get(Pathway, record.pathway_id)
    assert pathway is not None
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    if record.undone_at is not None:
        undoable = False
    elif record.decision == Decision.REMOVE:
        undoable = record.undoable_until is not None and record.undoable_until > now
    else:
        undoable = record.exported_at is None and record.decided_at + UNDO_GRACE > now
    return DecidedSummary(
        decision_id=record.id,
        item_id=record.review_item_id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        decision=record.decision,
        rtt_status_code=record.rtt_status_code,
        new_priority=record.new_priority,
        undoable=undoable,
    )
