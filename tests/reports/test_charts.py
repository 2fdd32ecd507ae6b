"""Charts are well-formed, accessible SVG with no inline styles, and say the numbers in words."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Outcome
from app.reports.campaign import CampaignReport, build_campaign_report
from app.reports.charts import equity_svg, funnel_svg
from app.reports.equity import GroupCounts, breakdown
from tests.support.campaign_factories import (
    make_attempt,
    make_campaign,
    make_outcome,
    make_patient_pathway,
)
from tests.support.factories import make_cohort

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def report(db_session: Session, settings: Settings) -> CampaignReport:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, name='Ortho <spring> & "summer"')
    for n in range(30):
        pathway = make_patient_pathway(db_session, cohort=cohort, sex="1" if n < 20 else "2")
        make_attempt(db_session, campaign=campaign, pathway=pathway, answered=n % 2 == 0)
        outcome = Outcome.STAY if n % 2 == 0 else Outcome.UNREACHABLE
        make_outcome(db_session, campaign=campaign, pathway=pathway, outcome=outcome)
    return build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )


def _accessible_root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output; raises if not well-formed
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert all("style" not in element.attrib for element in root.iter())
    return root


def test_funnel_chart_is_accessible_and_escapes_the_campaign_name(report: CampaignReport) -> None:
    root = _accessible_root(funnel_svg(report))
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == 'Campaign funnel: Ortho <spring> & "summer"'
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Pathways in cohort: 30" in desc.text
    assert "Answered: 15" in desc.text
    # One background and one value bar per stage.
    assert len(root.findall(f"{SVG}rect")) == 2 * 7


def test_equity_chart_draws_a_bar_and_whisker_per_shown_group(report: CampaignReport) -> None:
    sex = next(b for b in report.equity if b.dimension == "sex")
    root = _accessible_root(equity_svg(sex, chart_id="equity-sex"))
    assert len(root.findall(f"{SVG}rect")) == 2
    assert len(root.findall(f"{SVG}path")) == 2
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Male: 50% of 20 responded (95% CI 30% to 70%)" in desc.text


def test_equity_chart_writes_suppressed_instead_of_a_bar() -> None:
    counts = [
        GroupCounts("1", 40, 40, 10, 0, 0),
        GroupCounts("5", 40, 40, 30, 0, 0),
        GroupCounts("6", 30, 30, 25, 0, 0),
        GroupCounts("Unknown", 3, 3, 1, 0, 0),
    ]
    root = _accessible_root(equity_svg(breakdown("imd_decile", "IMD", counts), chart_id="x"))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts.count("suppressed (small numbers)") == 2
    assert len(root.findall(f"{SVG}rect")) == 2
    # The flagged group is drawn in red and says so in words.
    assert any(r.get("fill") == "#d5281b" for r in root.iter(f"{SVG}rect"))
    assert "significantly below everyone else" in (root.findtext(f"{SVG}desc") or "")
