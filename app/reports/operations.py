"""What an on-call engineer watches: the work queue, contacts in flight, the review backlog.

Plain counts from the database at the moment asked; `app/web/metrics.py` publishes them for
Prometheus. Attempts are counted for campaigns that are not finished, so a scrape stays cheap
however much history the database holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    AttemptStatus,
    Campaign,
    CampaignStatus,
    ContactAttempt,
    ReviewItem,
    ReviewStatus,
)
from app.worklist.escalation import overdue_by_reason

UNFINISHED = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)


@dataclass(frozen=True)
class OperationsSnapshot:
    """Counts at one moment; every status is present, zero when none."""

    campaigns: dict[CampaignStatus, int]
    attempts: dict[AttemptStatus, int]
    due_now: int
    oldest_due_seconds: float
    review_open: dict[tuple[str, bool], int]
    # Open worklist tasks past their due date, by reason (app/worklist/escalation.py).
    worklist_overdue: dict[str, int]


def operations_snapshot(session: Session, *, now: dt.datetime) -> OperationsSnapshot:
    """The queue, the contacts of unfinished campaigns by state, the open review items by
    reason and whether they are overdue, and the overdue worklist tasks by reason."""
    campaigns = dict.fromkeys(CampaignStatus, 0)
    for status, count in session.execute(
        select(Campaign.status, func.count()).group_by(Campaign.status)
    ):
        campaigns[CampaignStatus(status)] = int(count)
    unfinished = select(Campaign.id).where(Campaign.status.in_(UNFINISHED))
    attempts = dict.fromkeys(AttemptStatus, 0)
    for attempt_status, count in session.execute(
        select(ContactAttempt.status, func.count())
        .where(ContactAttempt.campaign_id.in_(unfinished))
        .group_by(ContactAttempt.status)
    ):
        attempts[AttemptStatus(attempt_status)] = int(count)
    due_now, oldest = session.execute(
        select(func.count(), func.min(ContactAttempt.due_at)).where(
            ContactAttempt.status == AttemptStatus.PLANNED,
            ContactAttempt.due_at <= now,
            ContactAttempt.campaign_id.in_(
                select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING)
            ),
        )
    ).one()
    review: dict[tuple[str, bool], int] = {}
    overdue = ReviewItem.due_at < now
    for reason, late, count in session.execute(
        select(ReviewItem.reason, overdue, func.count())
        .where(ReviewItem.status == ReviewStatus.OPEN)
        .group_by(ReviewItem.reason, overdue)
    ):
        review[(str(reason), bool(late))] = int(count)
    return OperationsSnapshot(
        campaigns=campaigns,
        attempts=attempts,
        due_now=int(due_now or 0),
        oldest_due_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
        review_open=review,
        worklist_overdue=overdue_by_reason(session, today=now.date()),
    )
