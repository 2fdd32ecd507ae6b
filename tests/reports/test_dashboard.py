"""The dashboard counts recent validations, pathways due at 12, 26, 52 weeks and the backlog."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.models import Outcome, PathwayStatus, ReviewStatus
from app.outcomes.service import record_outcome
from app.reports.dashboard import DueRow, build_dashboard
from tests.support.campaign_factories import make_campaign, make_outcome, make_review_item
from tests.support.factories import make_cohort, make_pathway

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=dt.UTC)


def test_it_counts_who_is_due_for_validation_at_each_milestone(db_session: Session) -> None:
    session = db_session
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort, name="Spring")

    def pathway(clock_start: str, **fields: object) -> object:
        return make_pathway(
            session, cohort=cohort, clock_start_date=dt.date.fromisoformat(clock_start), **fields
        )

    def answered(p: object, outcome: Outcome, day: str) -> None:
        make_outcome(session, campaign=campaign, pathway=p, outcome=outcome, recorded_at=_at(day))  # type: ignore[arg-type]

    pathway("2026-05-01")  # four weeks: not yet due
    pathway("2026-02-01")  # 17 weeks, never validated: due at 12
    answered(pathway("2026-02-01"), Outcome.STAY, "2026-05-15")  # validated after 12 weeks
    answered(pathway("2025-10-01"), Outcome.LEAVE, "2026-02-01")  # validated at 12, due at 26
    pathway("2025-04-01", last_validated_date=dt.date(2026, 4, 10))  # hospital validated at 52
    answered(pathway("2025-04-01"), Outcome.STAY, "2025-12-01")  # validated at 26, due at 52
    pathway("2025-01-01", status=PathwayStatus.CLOSED)  # off the list: never due
    answered(pathway("2026-02-01"), Outcome.UNREACHABLE, "2026-05-20")  # not a validation
    answered(pathway("2026-01-01"), Outcome.STAY, "2026-04-01")  # validated recently

    dashboard = build_dashboard(session, now=NOW)

    assert dashboard.open_pathways == 8
    assert dashboard.validated_last_12_weeks == 2
    assert dashboard.due_for_validation == [
        DueRow(weeks=12, due=2),
        DueRow(weeks=26, due=1),
        DueRow(weeks=52, due=1),
    ]
    (row,) = [c for c in dashboard.campaigns if c.id == campaign.id]
    assert (row.name, row.pathways_validated) == ("Spring", 4)


def test_it_counts_open_and_overdue_review_items(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    p = make_pathway(db_session, cohort=cohort)
    make_review_item(
        db_session,
        campaign=campaign,
        pathway=p,
        reason="worsened",
        due_at=NOW - dt.timedelta(days=1),
    )
    make_review_item(
        db_session, campaign=campaign, pathway=p, reason="leave", due_at=NOW - dt.timedelta(days=3)
    )
    make_review_item(
        db_session, campaign=campaign, pathway=p, reason="leave", due_at=NOW + dt.timedelta(days=3)
    )
    decided = make_review_item(
        db_session, campaign=campaign, pathway=p, due_at=NOW - dt.timedelta(days=9)
    )
    decided.status = ReviewStatus.DECIDED
    db_session.flush()

    dashboard = build_dashboard(db_session, now=NOW)

    assert (dashboard.open_review_items, dashboard.overdue_review_items) == (3, 2)
    assert dashboard.overdue_by_reason == {"leave": 1, "worsened": 1}


def test_it_counts_overdue_worklist_tasks_by_reason(db_session: Session) -> None:
    long_ago = NOW - dt.timedelta(days=30)
    for outcome in (Outcome.UNVERIFIED, Outcome.UNVERIFIED, Outcome.OPTED_OUT):
        record_outcome(db_session, pathway=make_pathway(db_session), outcome=outcome, now=long_ago)
    record_outcome(db_session, pathway=make_pathway(db_session), outcome=Outcome.UNCLEAR, now=NOW)

    dashboard = build_dashboard(db_session, now=NOW)

    assert dashboard.overdue_tasks_by_reason == {"unverified": 2, "opted_out": 1}
