"""Across campaigns: what was validated lately, what is due for re-validation, the review backlog.

NHS elective validation guidance expects every pathway to be validated once it has waited 12
weeks and again at 26 and 52 weeks. A pathway is *due* at the highest of those milestones it has
passed if nobody has validated it since it got there (a definitive answer in a campaign, or the
hospital's own ``last_validated_date`` from the extract).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, literal, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.campaigns.schedules import DueSummary, due_summary
from app.db import utcnow
from app.models import (
    Campaign,
    Pathway,
    PathwayOutcome,
    PathwayStatus,
    ReviewItem,
    ReviewStatus,
)
from app.reports.facts import COMPLETED_OUTCOMES, flag, total
from app.reports.rounds import MutualAidRow, RoundTrendRow, round_breakdowns
from app.reports.suppression import suppressed_groups
from app.worklist.escalation import overdue_by_reason as overdue_tasks_by_reason

RECENT_WEEKS = 12
REVALIDATION_WEEKS = (12, 26, 52)


@dataclass(frozen=True)
class DueRow:
    """Open pathways due for (re-)validation at one milestone."""

    weeks: int
    due: int


@dataclass(frozen=True)
class CampaignRow:
    """One campaign in the list on the dashboard."""

    id: int
    name: str
    status: str
    started_at: dt.datetime | None
    pathways_validated: int


@dataclass(frozen=True)
class Dashboard:
    """The numbers on the dashboard page."""

    as_of: dt.date
    open_pathways: int
    validated_last_12_weeks: int
    due_for_validation: list[DueRow]
    open_review_items: int
    overdue_review_items: int
    overdue_by_reason: dict[str, int]
    # Open worklist tasks past their due date, per reason (app/worklist/escalation.py).
    overdue_tasks_by_reason: dict[str, int]
    campaigns: list[CampaignRow]
    # From each pathway's next due date: overdue, due now, falling due next week, under way.
    schedule: DueSummary
    round_trend: list[RoundTrendRow]
    mutual_aid: list[MutualAidRow]
    # Groups too small to show (small-number suppression, as every breakdown of people).
    hidden_trend: set[str]
    hidden_mutual_aid: set[str]


def _add_days(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any], days: int
) -> ColumnElement[dt.date]:
    """``column + days`` as a date, in each database's own date arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column + literal(days), Date)
    return func.date(column, f"+{days} days")


def _as_date(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> ColumnElement[dt.date]:
    """The UTC date of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def build_dashboard(session: Session, *, now: dt.datetime | None = None) -> Dashboard:
    """Aggregate the cross-campaign picture as of ``now``."""
    now = now or utcnow()
    today = now.date()
    if session.get_bind().dialect.name == "postgresql":
        # As for the campaign report: JIT costs these one-off aggregates more than it saves.
        session.execute(text("SET LOCAL jit = off"))
    since = now - dt.timedelta(weeks=RECENT_WEEKS)
    # Each pathway keeps the time of its newest definitive answer (``record_outcome``), so
    # neither count aggregates the outcome history: a pathway answered since ``since`` is one
    # whose newest answer is.
    validated_recently = session.scalar(
        select(func.count()).select_from(Pathway).where(Pathway.last_answer_at >= since)
    )
    last_answer_on = _as_date(session, Pathway.last_answer_at)
    oldest = dt.date(1900, 1, 1)
    last_validated = func.coalesce(
        case(
            (
                func.coalesce(Pathway.last_validated_date, oldest)
                > func.coalesce(last_answer_on, oldest),
                Pathway.last_validated_date,
            ),
            else_=last_answer_on,
        ),
        oldest,
    )
    milestone = case(
        *(
            (
                (Pathway.clock_start_date <= today - dt.timedelta(weeks=weeks))
                & (last_validated < _add_days(session, Pathway.clock_start_date, weeks * 7)),
                weeks,
            )
            for weeks in sorted(REVALIDATION_WEEKS, reverse=True)
        ),
        else_=0,
    ).label("milestone")
    due_counts: dict[int, int] = {
        int(weeks): int(count)
        for weeks, count in session.execute(
            select(milestone, func.count())
            .select_from(Pathway)
            .where(Pathway.status == PathwayStatus.OPEN)
            .group_by(milestone)
        )
    }
    open_items, overdue_items = session.execute(
        select(func.count(), total(flag(ReviewItem.due_at < now))).where(
            ReviewItem.status == ReviewStatus.OPEN
        )
    ).one()
    overdue_by_reason = {
        str(reason): int(count)
        for reason, count in session.execute(
            select(ReviewItem.reason, func.count())
            .where(ReviewItem.status == ReviewStatus.OPEN, ReviewItem.due_at < now)
            .group_by(ReviewItem.reason)
            .order_by(ReviewItem.reason)
        )
    }
    rounds = round_breakdowns(session)
    trend, aid = rounds.trend, rounds.mutual_aid
    return Dashboard(
        as_of=today,
        open_pathways=sum(int(v) for v in due_counts.values()),
        validated_last_12_weeks=int(validated_recently or 0),
        due_for_validation=[
            DueRow(weeks=weeks, due=int(due_counts.get(weeks, 0))) for weeks in REVALIDATION_WEEKS
        ],
        open_review_items=int(open_items),
        overdue_review_items=int(overdue_items),
        overdue_by_reason=overdue_by_reason,
        overdue_tasks_by_reason=overdue_tasks_by_reason(session, today=today),
        campaigns=_campaigns(session),
        schedule=due_summary(session, today=today),
        round_trend=trend,
        mutual_aid=aid,
        hidden_trend=suppressed_groups({row.key: row.rounds for row in trend}),
        hidden_mutual_aid=suppressed_groups({row.key: row.asked for row in aid}),
    )


def _campaigns(session: Session) -> list[CampaignRow]:
    answered = (
        select(
            PathwayOutcome.campaign_id.label("campaign_id"),
            func.count(func.distinct(PathwayOutcome.pathway_id)).label("answered"),
        )
        .where(PathwayOutcome.outcome.in_(COMPLETED_OUTCOMES))
        .group_by(PathwayOutcome.campaign_id)
        .subquery("answered")
    )
    rows = session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.status,
            Campaign.started_at,
            func.coalesce(answered.c.answered, 0),
        )
        .outerjoin(answered, answered.c.campaign_id == Campaign.id)
        .order_by(Campaign.id.desc())
        .limit(50)
    ).all()
    return [CampaignRow(r[0], r[1], str(r[2]), r[3], int(r[4])) for r in rows]
