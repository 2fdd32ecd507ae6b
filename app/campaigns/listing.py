"""Every campaign with its progress counts, for the campaign list (page and API)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.attempts import TERMINAL
from app.models import Campaign, ContactAttempt, Outcome, Pathway

# Attempts in these states are finished: the dispatcher will not touch them again.
FINISHED_ATTEMPTS = frozenset(str(status) for status in TERMINAL)


@dataclass(frozen=True)
class CampaignSummary:
    """One line of the campaign list."""

    id: int
    name: str
    status: str
    simulated: bool
    cohort_id: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    pathways_in_cohort: int
    pathways_with_outcome: int
    attempts: int
    attempts_finished: int


def list_campaigns(session: Session) -> list[CampaignSummary]:
    """Every campaign, newest first, with attempt and outcome counts (three grouped queries)."""
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
    attempts: dict[int, dict[str, int]] = {}
    for campaign_id, status, count in session.execute(
        select(ContactAttempt.campaign_id, ContactAttempt.status, func.count()).group_by(
            ContactAttempt.campaign_id, ContactAttempt.status
        )
    ).all():
        attempts.setdefault(campaign_id, {})[str(status)] = count
    cohort_ids = {campaign.cohort_id for campaign in campaigns}
    pathways: dict[int, tuple[int, int]] = {
        cohort_id: (total, with_outcome)
        for cohort_id, total, with_outcome in session.execute(
            select(
                Pathway.cohort_id,
                func.count(),
                func.count(case((Pathway.outcome != Outcome.PENDING, 1))),
            )
            .where(Pathway.cohort_id.in_(cohort_ids))
            .group_by(Pathway.cohort_id)
        ).all()
    }
    result = []
    for campaign in campaigns:
        counts = attempts.get(campaign.id, {})
        total, with_outcome = pathways.get(campaign.cohort_id, (0, 0))
        result.append(
            CampaignSummary(
                id=campaign.id,
                name=campaign.name,
                status=str(campaign.status),
                simulated=campaign.simulated,
                cohort_id=campaign.cohort_id,
                created_at=campaign.created_at,
                started_at=campaign.started_at,
                pathways_in_cohort=total,
                pathways_with_outcome=with_outcome,
                attempts=sum(counts.values()),
                attempts_finished=sum(n for s, n in counts.items() if s in FINISHED_ATTEMPTS),
            )
        )
    return result
