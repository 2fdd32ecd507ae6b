"""Where a campaign stands, told from its attempts: what it is doing and when it calls next.

The stored status moves only on a worker's housekeeping pass, so a page that showed it alone
said "running" for a campaign with nothing left to do, and "not started" for one waiting for
calling hours. This reads the attempts with the named sets of ``app/attempts.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.attempts import IN_FLIGHT, QUEUED, TERMINAL
from app.campaigns.policy import AttemptPolicy, parse_policy
from app.campaigns.scheduled import has_work_left
from app.campaigns.windows import describe_windows, parse_windows
from app.db import utcnow
from app.errors import InvalidInputError, NotFoundError
from app.models import CallScript, Campaign, CampaignStatus, Cohort, ContactAttempt

S = CampaignStatus


@dataclass(frozen=True)
class CampaignSetup:
    """What the campaign was set up to do."""

    script: str
    script_version: int
    script_hash: str
    cohort_id: int
    cohort_name: str
    windows: str
    policy: AttemptPolicy
    calls_per_second: float
    starts_at: dt.datetime | None


@dataclass(frozen=True)
class CampaignProgress:
    """The campaign's state as its attempts tell it, and when the next contact can go out."""

    stored_status: str
    status: str
    queued: int
    in_flight: int
    settled: int
    next_contact_at: dt.datetime | None
    waiting_for_hours: bool
    setup: CampaignSetup

    @property
    def total(self) -> int:
        """Every attempt planned so far."""
        return self.queued + self.in_flight + self.settled


def _shown_status(campaign: Campaign, *, work_left: bool, attempts: int) -> str:
    if campaign.status == S.RUNNING and attempts and not work_left:
        # Nothing queued, ringing or awaiting a follow-up: the worker records it on its next pass.
        return S.COMPLETED.value
    return campaign.status.value


def campaign_progress(
    session: Session, *, campaign_id: int, now: dt.datetime | None = None
) -> CampaignProgress:
    """Counts of queued, in-flight and settled attempts, the shown status and the next contact."""
    now = now or utcnow()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    counts = dict(
        session.execute(
            select(ContactAttempt.status, func.count())
            .where(ContactAttempt.campaign_id == campaign_id)
            .group_by(ContactAttempt.status)
        ).all()
    )
    queued = sum(n for state, n in counts.items() if state in QUEUED)
    in_flight = sum(n for state, n in counts.items() if state in IN_FLIGHT)
    settled = sum(n for state, n in counts.items() if state in TERMINAL)
    next_due = session.scalar(
        select(func.min(ContactAttempt.due_at)).where(
            ContactAttempt.campaign_id == campaign_id, ContactAttempt.status.in_(QUEUED)
        )
    )
    next_at, waiting = _next_contact(campaign, next_due=next_due, now=now)
    script = session.get(CallScript, campaign.call_script_id)
    cohort = session.get(Cohort, campaign.cohort_id)
    setup = CampaignSetup(
        script=script.title if script else "unknown",
        script_version=script.version if script else 0,
        script_hash=script.content_hash if script else "",
        cohort_id=campaign.cohort_id,
        cohort_name=cohort.name if cohort else "unknown",
        windows=describe_windows(campaign.calling_windows),
        policy=parse_policy(campaign.attempt_policy),
        calls_per_second=campaign.calls_per_second,
        starts_at=campaign.starts_at,
    )
    work_left = queued + in_flight > 0 or has_work_left(session, campaign_id=campaign_id)
    return CampaignProgress(
        stored_status=campaign.status.value,
        status=_shown_status(campaign, work_left=work_left, attempts=sum(counts.values())),
        queued=queued,
        in_flight=in_flight,
        settled=settled,
        next_contact_at=next_at,
        waiting_for_hours=waiting,
        setup=setup,
    )


def _next_contact(
    campaign: Campaign, *, next_due: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime | None, bool]:
    """When the next contact may be placed, and whether calling hours are what it waits for."""
    if campaign.status == S.SCHEDULED and campaign.starts_at is not None:
        earliest = max(campaign.starts_at, now)
    elif campaign.status == S.RUNNING and next_due is not None:
        earliest = max(next_due, now)
    else:
        return None, False
    try:
        opens = parse_windows(campaign.calling_windows).next_open(earliest)
    except InvalidInputError:
        return None, False
    return opens, opens > earliest
