"""The grouped counts behind every report: people counted once, whatever their pathways."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from sqlalchemy.orm import Session

from app.models import Pathway
from app.reports.equity import DIMENSIONS
from app.reports.facts import grouped_counts
from tests.support.campaign_factories import make_campaign, make_exclusion
from tests.support.factories import make_cohort, make_pathway


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equity_groups_count_each_eligible_person_once(db_session: Session, seed: int) -> None:
    rng = random.Random(seed)
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort)
    expected_people: dict[str, set[int]] = defaultdict(set)
    expected_pathways: dict[str, int] = defaultdict(int)
    for _ in range(25):
        decile = rng.choice([1, 2, 3, None])
        first = make_pathway(db_session, cohort=cohort, imd_decile=decile)
        for _ in range(rng.randint(0, 2)):  # the same patient's other pathways
            other = make_pathway(db_session, cohort=cohort)
            other.patient_id = first.patient_id
            other.specialty_code = rng.choice(["110", "120"])
        db_session.flush()
        for pathway in db_session.query(Pathway).filter_by(patient_id=first.patient_id):
            if rng.random() < 0.3:
                make_exclusion(db_session, pathway=pathway, rule_id="deceased")
                continue
            key = "Unknown" if decile is None else str(decile)
            expected_people[key].add(first.patient_id)
            expected_pathways[key] += 1

    counts = grouped_counts(
        db_session, campaign=campaign, on_date=dt.date(2026, 3, 2), dimensions=DIMENSIONS
    )

    by_key = {c.key: (c.people, c.pathways) for c in counts["equity_imd_decile"]}
    assert by_key == {
        key: (len(people), expected_pathways[key]) for key, people in expected_people.items()
    }
