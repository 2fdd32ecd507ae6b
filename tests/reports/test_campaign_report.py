"""The campaign report counts exactly what happened in a campaign built by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFoundError
from app.models import AttemptStatus, Channel, Decision, NoticeKind, NoticeStatus, Outcome
from app.reports.campaign import (
    AttemptRow,
    CampaignReport,
    GroupRow,
    NoticeRow,
    build_campaign_report,
)
from app.reports.export import report_rows
from tests.support.campaign_factories import (
    make_answer,
    make_attempt,
    make_campaign,
    make_decision,
    make_exclusion,
    make_outcome,
    make_review_item,
)
from tests.support.factories import make_cohort, make_pathway
from tests.support.notices import make_notice

SPRING = dt.datetime(2026, 4, 1, 13, 30, tzinfo=dt.UTC)  # 14:30 in London (BST)


@pytest.fixture
def report(db_session: Session, settings: Settings) -> CampaignReport:
    """Thirteen pathways, each taking a different road through the campaign."""
    session = db_session
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort)
    p = {
        n: make_pathway(
            session,
            cohort=cohort,
            specialty_code="110" if 3 <= n <= 6 else "120",
            provider_code="RYY" if n == 12 else "RXX",
        )
        for n in range(1, 14)
    }
    make_exclusion(session, pathway=p[1], rule_id="deceased")
    make_exclusion(session, pathway=p[1], rule_id="palliative")
    make_exclusion(session, pathway=p[2], rule_id="deceased")

    def call(n: int, seconds: int | None, *, number: int = 1, **kw: object) -> None:
        make_attempt(
            session,
            campaign=campaign,
            pathway=p[n],
            attempt_number=number,
            answered=seconds is not None,
            duration_seconds=seconds,
            **kw,  # type: ignore[arg-type]
        )

    call(3, 90)
    make_outcome(session, campaign=campaign, pathway=p[3], outcome=Outcome.STAY)
    call(4, None, status=AttemptStatus.NO_ANSWER)
    call(4, 130, number=2, placed_at=SPRING)
    make_outcome(session, campaign=campaign, pathway=p[4], outcome=Outcome.LEAVE)
    make_decision(
        session, campaign=campaign, pathway=p[4], decision=Decision.REMOVE, rtt_status_code="34"
    )
    call(5, 61)
    make_outcome(session, campaign=campaign, pathway=p[5], outcome=Outcome.LEAVE)
    make_decision(session, campaign=campaign, pathway=p[5], decision=Decision.KEEP)
    make_decision(
        session,
        campaign=campaign,
        pathway=p[5],
        decision=Decision.REMOVE,
        rtt_status_code="35",
        undone=True,
    )
    call(6, 30)
    make_outcome(session, campaign=campaign, pathway=p[6], outcome=Outcome.WORSENED)
    make_decision(session, campaign=campaign, pathway=p[6], decision=Decision.EXPEDITE)
    call(7, 45)
    make_outcome(session, campaign=campaign, pathway=p[7], outcome=Outcome.UNVERIFIED)
    call(8, 20)
    make_outcome(session, campaign=campaign, pathway=p[8], outcome=Outcome.UNCLEAR)
    make_decision(session, campaign=campaign, pathway=p[8], decision=Decision.CALL_BACK)
    call(9, None, status=AttemptStatus.NO_ANSWER)
    call(
        9,
        None,
        number=2,
        status=AttemptStatus.NO_ANSWER,
        placed_at=dt.datetime(2026, 3, 3, 17, 10, tzinfo=dt.UTC),
    )
    make_outcome(session, campaign=campaign, pathway=p[9], outcome=Outcome.UNREACHABLE)
    sms = make_attempt(
        session, campaign=campaign, pathway=p[10], channel=Channel.SMS, answered=True
    )
    make_answer(session, attempt=sms, turn=1)
    make_answer(session, attempt=sms, turn=2)
    make_outcome(session, campaign=campaign, pathway=p[10], outcome=Outcome.UNCLEAR)
    make_outcome(
        session, campaign=campaign, pathway=p[10], outcome=Outcome.STAY, recorded_at=SPRING
    )
    stop = make_attempt(
        session, campaign=campaign, pathway=p[11], channel=Channel.SMS, answered=True
    )
    make_answer(session, attempt=stop)
    make_outcome(session, campaign=campaign, pathway=p[11], outcome=Outcome.OPTED_OUT)
    call(12, 15)
    make_outcome(session, campaign=campaign, pathway=p[12], outcome=Outcome.CALLBACK_REQUESTED)
    make_review_item(session, campaign=campaign, pathway=p[12], reason="callback_requested")
    call(13, None, status=AttemptStatus.PLANNED, placed_at=None)

    # Another campaign over the same cohort must not leak into this one's numbers.
    other = make_campaign(session, cohort=cohort)
    make_attempt(session, campaign=other, pathway=p[3], answered=True, duration_seconds=600)
    make_outcome(session, campaign=other, pathway=p[13], outcome=Outcome.LEAVE)

    priced = settings.model_copy(
        update={
            "cost_per_call_attempt": Decimal("0.01"),
            "cost_per_call_minute": Decimal("0.10"),
            "cost_per_sms_segment": Decimal("0.05"),
        }
    )
    return build_campaign_report(session, campaign_id=campaign.id, settings=priced, actor="alice")


def test_the_funnel_counts_pathways_at_every_stage(report: CampaignReport) -> None:
    funnel = report.funnel
    assert (funnel.cohort, funnel.excluded, funnel.eligible) == (13, 2, 11)
    assert funnel.excluded_by_rule == {"deceased": 2, "palliative": 1}
    assert funnel.attempted == 10
    assert funnel.answered == 9
    assert funnel.identity_verified == 6
    assert funnel.completed == 5
    assert funnel.outcomes == {
        "stay": 2,
        "leave": 2,
        "worsened": 1,
        "unclear": 1,
        "unverified": 1,
        "unreachable": 1,
        "opted_out": 1,
        "callback_requested": 1,
        "reported_deceased": 0,
    }
    # The two excluded pathways are counted as excluded, not as waiting for an outcome.
    assert funnel.no_outcome_yet == 1
    assert sum(funnel.outcomes.values()) + funnel.no_outcome_yet + funnel.excluded == funnel.cohort


def test_decisions_count_removals_by_rtt_code_and_ignore_undone_ones(
    report: CampaignReport,
) -> None:
    decisions = report.decisions
    assert decisions.removed == 1
    assert decisions.removed_by_rtt_code == {"34": 1}
    assert (decisions.kept, decisions.expedited, decisions.called_back) == (1, 1, 1)
    assert decisions.open_review_items == 1


def test_it_breaks_the_funnel_down_by_specialty_and_provider(report: CampaignReport) -> None:
    assert report.by_specialty == [
        GroupRow(
            "110",
            pathways=4,
            excluded=0,
            attempted=4,
            answered=4,
            completed=4,
            leave=2,
            worsened=1,
            removed=1,
        ),
        GroupRow(
            "120",
            pathways=9,
            excluded=2,
            attempted=6,
            answered=5,
            completed=1,
            leave=0,
            worsened=0,
            removed=0,
        ),
    ]
    assert [(row.key, row.pathways, row.answered) for row in report.by_provider] == [
        ("RXX", 12, 8),
        ("RYY", 1, 1),
    ]


def test_it_breaks_attempts_down_by_channel_attempt_number_and_local_hour(
    report: CampaignReport,
) -> None:
    assert report.by_channel == [
        AttemptRow("sms", attempts=2, reached_provider=2, answered=2, completed=2),
        AttemptRow("voice", attempts=11, reached_provider=10, answered=7, completed=7),
    ]
    assert [(row.key, row.attempts) for row in report.by_attempt_number] == [("1", 11), ("2", 2)]
    # 09:00 UTC in March is 09:00 GMT; 13:30 UTC on 1 April is 14:30 BST.
    assert [(row.key, row.attempts, row.answered) for row in report.by_hour] == [
        ("09:00", 10, 8),
        ("14:00", 1, 1),
        ("17:00", 1, 0),
    ]


def test_it_estimates_usage_and_cost_from_the_unit_prices(report: CampaignReport) -> None:
    usage = report.usage
    assert (usage.call_attempts, usage.call_minutes) == (10, 11)
    assert (usage.sms_messages, usage.sms_segments) == (2, 8)
    # 10 x 0.01 + 11 x 0.10 + 8 x 0.05
    assert usage.total_cost == Decimal("1.60")
    assert usage.cost_per_validated_pathway == Decimal("0.32")
    assert usage.cost_per_removal == Decimal("1.60")


def test_a_campaign_that_does_not_exist_is_not_found(
    db_session: Session, settings: Settings
) -> None:
    with pytest.raises(NotFoundError):
        build_campaign_report(db_session, campaign_id=999_999, settings=settings, actor="alice")


def test_a_campaign_over_an_empty_cohort_reports_zeros(
    db_session: Session, settings: Settings
) -> None:
    campaign = make_campaign(db_session)
    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )
    assert (report.funnel.cohort, report.funnel.eligible, report.funnel.completed) == (0, 0, 0)
    assert report.usage.total_cost == Decimal("0.00")
    assert report.usage.cost_per_validated_pathway is None
    assert all(b.groups == [] and b.flagged == [] for b in report.equity)


def test_the_report_counts_notices_by_kind_and_state(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    n = NoticeStatus
    states = [n.SENT, n.SENT, n.FAILED, n.CANCELLED, n.IN_DOUBT, n.PLANNED, n.SENDING]
    for state in states:
        call = make_attempt(
            db_session, campaign=campaign, pathway=make_pathway(db_session, cohort=cohort)
        )
        make_notice(db_session, attempt=call, status=state)
    sms = make_attempt(
        db_session, campaign=campaign, pathway=make_pathway(db_session, cohort=cohort)
    )
    make_notice(db_session, attempt=sms, kind=NoticeKind.REMINDER, status=n.SENT)

    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )

    assert report.notices == [
        NoticeRow("pre_call", planned=2, sent=2, failed=1, cancelled=1, in_doubt=1),
        NoticeRow("reminder", planned=0, sent=1, failed=0, cancelled=0, in_doubt=0),
    ]
    rows = [row for row in report_rows(report) if row[0] == "notices"]
    assert ["notices", "reminder", "sent", "1"] in rows and len(rows) == 10
