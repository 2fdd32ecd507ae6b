"""A campaign's shown state comes from its attempts, with when the next contact may go out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.campaigns.progress import campaign_progress
from app.campaigns.windows import DEFAULT_WEEKLY
from app.models import AttemptStatus, CampaignStatus, Outcome
from tests.support.campaign_factories import CAMPAIGN_START, make_attempt, make_campaign
from tests.support.factories import make_cohort, make_pathway

DEFAULT_WINDOWS = {"timezone": "Europe/London", "weekly": DEFAULT_WEEKLY}

# CAMPAIGN_START is Monday 2 March 2026, 09:00 UTC (09:00 in London).
SATURDAY_EVENING = dt.datetime(2026, 3, 7, 18, 0, tzinfo=dt.UTC)


def test_a_running_campaign_with_every_contact_settled_shows_completed(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, calling_windows=DEFAULT_WINDOWS)
    pathway = make_pathway(db_session, cohort=cohort)
    pathway.outcome = Outcome.STAY
    make_attempt(db_session, campaign=campaign, pathway=pathway, status=AttemptStatus.COMPLETED)

    progress = campaign_progress(db_session, campaign_id=campaign.id, now=CAMPAIGN_START)

    assert (progress.stored_status, progress.status) == ("running", "completed")
    assert (progress.queued, progress.in_flight, progress.settled) == (0, 0, 1)
    assert progress.next_contact_at is None


def test_a_campaign_with_a_contact_queued_says_it_waits_for_calling_hours(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, calling_windows=DEFAULT_WINDOWS)
    pathway = make_pathway(db_session, cohort=cohort)
    make_attempt(
        db_session,
        campaign=campaign,
        pathway=pathway,
        status=AttemptStatus.PLANNED,
        placed_at=SATURDAY_EVENING,
    )

    progress = campaign_progress(db_session, campaign_id=campaign.id, now=SATURDAY_EVENING)

    assert progress.status == "running"
    assert progress.queued == 1
    # Saturday closes at 16:00 and Sunday is never open: Monday 09:00 in London.
    assert progress.next_contact_at == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert progress.waiting_for_hours


def test_a_scheduled_campaign_tells_when_it_starts_calling(db_session: Session) -> None:
    starts = dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)  # a Sunday
    campaign = make_campaign(
        db_session,
        status=CampaignStatus.SCHEDULED,
        starts_at=starts,
        started_at=None,
        calling_windows=DEFAULT_WINDOWS,
    )

    progress = campaign_progress(db_session, campaign_id=campaign.id, now=CAMPAIGN_START)

    assert progress.status == "scheduled"
    assert progress.next_contact_at == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert progress.setup.windows.startswith("mon 09:00-19:00")
