"""The CSV and JSON forms of a report carry its numbers and never a suppressed one."""

from __future__ import annotations

import csv
import json

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Outcome
from app.reports.campaign import build_campaign_report
from app.reports.export import report_csv, to_jsonable
from tests.support.campaign_factories import (
    make_attempt,
    make_campaign,
    make_outcome,
    make_patient_pathway,
)
from tests.support.factories import make_cohort


def test_suppressed_groups_carry_no_numbers_in_csv_or_json(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    for language, count in (("en", 30), ("pl", 20), ("so", 3)):
        for n in range(count):
            pathway = make_patient_pathway(db_session, cohort=cohort, preferred_language=language)
            make_attempt(db_session, campaign=campaign, pathway=pathway, answered=n % 2 == 0)
            outcome = Outcome.STAY if n % 2 == 0 else Outcome.UNREACHABLE
            make_outcome(db_session, campaign=campaign, pathway=pathway, outcome=outcome)
    report = build_campaign_report(
        db_session, campaign_id=campaign.id, settings=settings, actor="alice"
    )

    rows = list(csv.reader(report_csv(report).splitlines()))
    language_rows = [r for r in rows if r[0] == "equity_preferred_language"]
    for group in ("Somali", "Polish"):  # Somali is small; Polish is hidden with it
        measures = {r[2]: r[3] for r in language_rows if r[1] == group}
        assert measures == {"people": "suppressed", "low_response_flag": "False"}
    shown = {r[2]: r[3] for r in language_rows if r[1] == "English"}
    assert shown["people"] == "30" and shown["response_count"] == "15"
    assert shown["response_rate"] == "0.5000"

    document = json.loads(json.dumps(to_jsonable(report)))
    languages = next(b for b in document["equity"] if b["dimension"] == "preferred_language")
    so = next(g for g in languages["groups"] if g["key"] == "so")
    assert so["suppressed"] is True
    assert so["people"] is None and so["response"] is None and so["pathways"] is None
