"""How an outcome enters the clinical review queue, and where it sits in it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import add_working_days
from app.db import utcnow
from app.models import Outcome, Pathway, PathwayOutcome, ReviewItem, ReviewStatus
from app.review.decisions import undo_removal, undoable_removal

# Lower rank is reviewed first: a worsening patient before anyone else.
REVIEW_RANK: dict[Outcome, int] = {
    Outcome.WORSENED: 0,
    # A reported death is checked (e.g. against PDS) by staff before any change to the list.
    Outcome.REPORTED_DECEASED: 1,
    Outcome.LEAVE: 1,
    Outcome.UNCLEAR: 2,
    Outcome.CALLBACK_REQUESTED: 3,
}
# Working days within which a clinician should have looked (overdue after that).
REVIEW_DUE_WORKING_DAYS: dict[Outcome, int] = {
    Outcome.WORSENED: 2,
    Outcome.LEAVE: 10,
    Outcome.UNCLEAR: 10,
    Outcome.CALLBACK_REQUESTED: 5,
    Outcome.REPORTED_DECEASED: 5,
}
UNKNOWN_PRIORITY_RANK = 9
# A patient who replies again after a removal, within its change-of-mind window, goes back to
# the queue whatever they said ("stay" included); such an item ranks with "leave".
REPLIES = frozenset(
    {Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED, Outcome.UNCLEAR, Outcome.CALLBACK_REQUESTED}
)
CHANGE_OF_MIND_RANK = REVIEW_RANK[Outcome.LEAVE]
CHANGE_OF_MIND_DUE_WORKING_DAYS = 2


def needs_review(outcome: Outcome) -> bool:
    """Outcomes a clinician must see: leave, worsened, unclear, a reported death, and asked to be
    called back."""
    return outcome in REVIEW_RANK


def priority_rank(priority: str | None) -> int:
    """``P1`` -> 1 ... ``P6`` -> 6; unknown priorities sort last."""
    if priority and len(priority) == 2 and priority[0] == "P" and priority[1] in "123456":
        return int(priority[1])
    return UNKNOWN_PRIORITY_RANK


def open_review_item(
    session: Session,
    *,
    pathway: Pathway,
    pathway_outcome: PathwayOutcome,
    now: dt.datetime | None = None,
) -> ReviewItem | None:
    """Queue ``pathway`` for review because of ``pathway_outcome``, or update its open item.

    One open item per pathway: a patient who answers again moves their existing item (a worse
    answer raises it) rather than appearing twice. A reply within a removal's change-of-mind
    window undoes the removal and reopens its item.
    """
    outcome = pathway_outcome.outcome
    now = now or utcnow()
    item = session.scalars(
        select(ReviewItem).where(
            ReviewItem.pathway_id == pathway.id, ReviewItem.status == ReviewStatus.OPEN
        )
    ).one_or_none()
    reopened = False
    if item is None and outcome in REPLIES:
        removal = undoable_removal(session, pathway_id=pathway.id, now=now)
        if removal is not None:
            item = undo_removal(
                session, decision_id=removal.id, by=None, reason="patient replied again", now=now
            )
            reopened = True
    if not needs_review(outcome) and not reopened:
        return None
    due_days = REVIEW_DUE_WORKING_DAYS.get(outcome, CHANGE_OF_MIND_DUE_WORKING_DAYS)
    if reopened:
        due_days = min(due_days, CHANGE_OF_MIND_DUE_WORKING_DAYS)
    due_at = dt.datetime.combine(add_working_days(now.date(), due_days), now.timetz())
    if item is None:
        item = ReviewItem(
            pathway_id=pathway.id,
            campaign_id=pathway_outcome.campaign_id,
            specialty_code=pathway.specialty_code,
            provider_code=pathway.provider_code,
            clock_start_date=pathway.clock_start_date,
            opened_at=now,
            status=ReviewStatus.OPEN,
            version=1,
        )
        session.add(item)
    elif not reopened:
        item.version += 1
    item.pathway_outcome_id = pathway_outcome.id
    item.reason = outcome.value
    item.rank = REVIEW_RANK.get(outcome, CHANGE_OF_MIND_RANK)
    item.priority_rank = priority_rank(pathway.priority)
    item.due_at = due_at
    session.flush()
    return item
