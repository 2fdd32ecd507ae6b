"""Recording the outcome a conversation (or the attempt policy) reached for a pathway."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import DEFINITIVE_OUTCOMES, Outcome, Pathway, PathwayOutcome
from app.review.intake import open_review_item
from app.validation.rounds import on_outcome
from app.worklist.intake import follow_up_outcome


def record_outcome(
    session: Session,
    *,
    pathway: Pathway,
    outcome: Outcome,
    campaign_id: int | None = None,
    contact_attempt_id: int | None = None,
    recorded: dict[str, Any] | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> PathwayOutcome:
    """Append an outcome to the pathway's history, make it current, queue it for review, and
    give a person the follow-up it needs (a worklist task).

    The newest outcome decides what the pathway's status is; nothing is overwritten, so the
    review page can show every conversation that led here. The outcome is also the answer of
    the pathway's current validation round, which it closes unless a clinician must decide.
    """
    now = now or utcnow()
    entry = PathwayOutcome(
        pathway_id=pathway.id,
        campaign_id=campaign_id,
        contact_attempt_id=contact_attempt_id,
        outcome=outcome,
        recorded=recorded or {},
        note=note,
        recorded_at=now,
    )
    session.add(entry)
    make_current(pathway, outcome=outcome, at=now)
    session.flush()
    item = open_review_item(session, pathway=pathway, pathway_outcome=entry, now=now)
    # The outcome belongs to the pathway's current round; a clinician's item keeps it open.
    on_outcome(session, pathway=pathway, entry=entry, awaits_clinician=item is not None, now=now)
    follow_up_outcome(session, pathway=pathway, entry=entry, now=now)
    return entry


def make_current(pathway: Pathway, *, outcome: Outcome, at: dt.datetime) -> None:
    """Mark ``outcome``, recorded ``at``, as the pathway's current one.

    A definitive answer also moves ``last_answer_at`` on (never back: an outcome recorded with
    an earlier time leaves the newest answer standing), so the row always holds the latest
    time among its definitive outcomes, as an aggregate over them would.
    """
    pathway.outcome = outcome
    pathway.outcome_at = at
    if outcome in DEFINITIVE_OUTCOMES and (
        pathway.last_answer_at is None or at > pathway.last_answer_at
    ):
        pathway.last_answer_at = at
