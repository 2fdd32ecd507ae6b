"""Equity breakdowns: rates with intervals, suppression of small groups, and low-response flags."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Campaign, Cohort, Decision, Outcome
from app.reports.campaign import build_campaign_report
from app.reports.equity import EquityBreakdown, GroupCounts, breakdown
from app.reports.suppression import suppressed_groups
from tests.support.campaign_factories import (
    make_attempt,
    make_campaign,
    make_decision,
    make_exclusion,
    make_outcome,
    make_patient_pathway,
)
from tests.support.factories import make_cohort


def _counts(*groups: tuple[str, int, int]) -> list[GroupCounts]:
    return [GroupCounts(key, n, n, responded, 0, 0) for key, n, responded in groups]


def _group(result: EquityBreakdown, key: str) -> object:
    return next(g for g in result.groups if g.key == key)


def test_a_group_with_fewer_than_ten_people_is_suppressed() -> None:
    assert "3" in suppressed_groups({"1": 50, "2": 60, "3": 9, "4": 8})
    assert suppressed_groups({"1": 50, "2": 10}) == set()


def test_a_lone_small_group_takes_the_next_smallest_with_it() -> None:
    # With only "3" hidden, total - (1 + 2) would give it away.
    assert suppressed_groups({"1": 50, "2": 30, "3": 4}) == {"3", "2"}


def test_suppressed_numbers_cannot_be_recovered_by_subtraction() -> None:
    sizes = {"a": 3, "b": 2, "c": 40, "d": 41, "e": 12, "f": 1}
    hidden = suppressed_groups(sizes)
    # At least two groups are hidden and together they hold at least ten people, so the total
    # minus the shown groups neither singles out one group nor reveals a small one.
    assert len(hidden) >= 2
    assert sum(sizes[g] for g in hidden) >= 10
    assert all(sizes[g] >= 10 for g in set(sizes) - hidden)


def test_breakdown_shows_no_numbers_for_suppressed_groups() -> None:
    result = breakdown("sex", "Sex", _counts(("1", 50, 40), ("2", 60, 50), ("9", 3, 1)))
    for key in ("9", "1"):  # "9" is small; "1" (the next smallest) is hidden with it
        group = result.groups[[g.key for g in result.groups].index(key)]
        assert group.suppressed
        assert (group.people, group.pathways, group.response, group.p_value_adjusted) == (
            None,
            None,
            None,
            None,
        )
    shown = [g for g in result.groups if not g.suppressed]
    assert [g.label for g in shown] == ["Female"]


def test_a_group_responding_far_less_than_the_rest_is_flagged_with_a_suggestion() -> None:
    result = breakdown(
        "imd_decile", "IMD decile", _counts(("1", 40, 10), ("5", 40, 30), ("10", 40, 30))
    )
    assert result.flagged == ["1"]
    low = result.groups[0]
    assert low.key == "1" and low.low_response
    assert low.p_value_adjusted is not None and low.p_value_adjusted < 0.001
    assert len(result.suggestions) == 1
    assert "30 did not respond" in result.suggestions[0]
    assert "25% responded against 75%" in result.suggestions[0]
    assert "Holm" in result.test


def test_a_group_hidden_only_to_protect_a_smaller_one_keeps_its_flag() -> None:
    result = breakdown(
        "imd_decile", "IMD decile", _counts(("1", 30, 5), ("5", 40, 30), ("9", 4, 3))
    )
    low = result.groups[0]
    assert (low.key, low.suppressed, low.low_response, low.pathways) == ("1", True, True, None)
    assert result.flagged == ["1"]
    assert "numbers suppressed" in result.suggestions[0]
    assert "5" not in result.suggestions[0].split(":", 1)[1]


def test_a_fair_campaign_flags_nobody() -> None:
    result = breakdown(
        "imd_decile", "IMD decile", _counts(("1", 40, 28), ("5", 40, 30), ("10", 40, 29))
    )
    assert result.flagged == []
    assert result.suggestions == []


def test_a_group_above_the_rest_is_not_flagged() -> None:
    result = breakdown("sex", "Sex", _counts(("1", 100, 95), ("2", 100, 50)))
    assert result.flagged == ["Female"]


def test_the_multiple_comparison_correction_removes_a_borderline_flag() -> None:
    # 38/100 against 200/400 gives p = 0.032 on its own, but not after Holm over five groups.
    groups = _counts(("a", 100, 38), *((k, 100, 50) for k in "bcde"))
    result = breakdown("preferred_language", "Language", groups)
    assert result.flagged == []
    lowest = result.groups[0]
    assert lowest.p_value_adjusted == pytest.approx(5 * 0.0316, abs=0.005)


def test_rates_carry_their_wilson_interval() -> None:
    result = breakdown("sex", "Sex", _counts(("1", 10, 5), ("2", 10, 5)))
    response = result.groups[0].response
    assert response is not None
    assert (response.count, response.of, response.rate) == (5, 10, 0.5)
    assert response.ci is not None
    assert response.ci.low == pytest.approx(0.2366, abs=5e-4)


def _people(
    session: Session,
    campaign: Campaign,
    cohort: Cohort,
    count: int,
    *,
    responded: int,
    **patient: object,
) -> None:
    for n in range(count):
        pathway = make_patient_pathway(session, cohort=cohort, **patient)
        make_attempt(session, campaign=campaign, pathway=pathway, answered=n < responded)
        outcome = Outcome.STAY if n < responded else Outcome.UNREACHABLE
        make_outcome(session, campaign=campaign, pathway=pathway, outcome=outcome)


def test_campaign_report_flags_a_constructed_disparity_by_deprivation(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    _people(db_session, campaign, cohort, 30, responded=6, imd_decile=1)
    _people(db_session, campaign, cohort, 30, responded=24, imd_decile=5)
    _people(db_session, campaign, cohort, 20, responded=17, imd_decile=10)
    _people(db_session, campaign, cohort, 4, responded=4, imd_decile=None)
    excluded = make_patient_pathway(db_session, cohort=cohort, imd_decile=1)
    make_exclusion(db_session, pathway=excluded, rule_id="deceased")

    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )
    imd = next(b for b in report.equity if b.dimension == "imd_decile")

    assert imd.flagged == ["1"]
    by_key = {g.key: g for g in imd.groups}
    assert set(by_key) == {"1", "5", "10", "Unknown"}
    assert by_key["Unknown"].suppressed
    # The excluded pathway is not part of the population.
    assert by_key["1"].pathways == 30 and by_key["1"].response is not None
    assert by_key["1"].response.count == 6
    # "10" is the smallest other group, hidden so that "Unknown" cannot be recovered.
    assert [g.key for g in imd.groups if g.suppressed] == ["10", "Unknown"]


def test_age_bands_are_worked_out_on_the_campaign_date(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(
        db_session, cohort=cohort, started_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    )
    _people(db_session, campaign, cohort, 10, responded=5, date_of_birth=dt.date(1986, 3, 2))
    _people(db_session, campaign, cohort, 10, responded=5, date_of_birth=dt.date(1986, 3, 3))
    _people(db_session, campaign, cohort, 10, responded=5, date_of_birth=dt.date(1946, 1, 1))

    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )
    ages = next(b for b in report.equity if b.dimension == "age_band")

    assert [(g.key, g.people) for g in ages.groups] == [("18-39", 10), ("40-64", 10), ("80+", 10)]


def test_removal_and_leave_rates_count_clinical_removals_and_leave_answers(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    for n in range(12):
        pathway = make_patient_pathway(db_session, cohort=cohort, sex="2")
        make_attempt(db_session, campaign=campaign, pathway=pathway, answered=n < 8)
        outcome = (Outcome.LEAVE if n < 4 else Outcome.STAY) if n < 8 else Outcome.UNREACHABLE
        make_outcome(db_session, campaign=campaign, pathway=pathway, outcome=outcome)
        if n < 3:
            make_decision(
                db_session,
                campaign=campaign,
                pathway=pathway,
                decision=Decision.REMOVE,
                rtt_status_code="34",
            )

    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )
    sex = next(b for b in report.equity if b.dimension == "sex")
    (female,) = sex.groups
    assert female.label == "Female"
    assert female.response is not None and (female.response.count, female.response.of) == (8, 12)
    assert female.leave is not None and (female.leave.count, female.leave.of) == (4, 8)
    assert female.removal is not None and (female.removal.count, female.removal.of) == (3, 12)


def test_every_pair_of_hidden_groups_is_bigger_than_the_threshold_together() -> None:
    sizes = {"a": 9, "b": 9, "c": 100}
    hidden = suppressed_groups(sizes)
    assert hidden == {"a", "b"}
    assert all(sizes[x] + sizes[y] >= 10 for x, y in combinations(hidden, 2))
