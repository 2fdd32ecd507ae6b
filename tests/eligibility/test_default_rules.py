from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import SOURCE_ROOT
from app.eligibility.service import evaluate_cohort, exclusion_reasons, load_rules
from app.models import (
    AttemptStatus,
    CallScript,
    Campaign,
    Channel,
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
)
from tests.support.factories import make_pathway

RULES = load_rules(SOURCE_ROOT / "exclusions")
TODAY = dt.date(2026, 11, 22)


def excluded_by(session: Session, on_date: dt.date = TODAY, **fields: Any) -> dict[str, str]:
    pathway = make_pathway(session, **fields)
    reasons = exclusion_reasons(session, pathway_id=pathway.id, rules=RULES, on_date=on_date)
    return {item.rule_id: item.reason for item in reasons}


def test_an_ordinary_adult_with_a_mobile_is_eligible(db_session: Session) -> None:
    assert excluded_by(db_session) == {}


def test_a_child_is_excluded_until_the_day_they_turn_18(db_session: Session) -> None:
    born = dt.date(2008, 11, 22)
    assert "under_18" in excluded_by(db_session, on_date=dt.date(2026, 11, 21), date_of_birth=born)
    assert "under_18" not in excluded_by(db_session, on_date=TODAY, date_of_birth=born)


def test_a_leap_day_child_turns_18_on_the_first_of_march(db_session: Session) -> None:
    born = dt.date(2008, 2, 29)
    reasons = excluded_by(db_session, on_date=dt.date(2026, 2, 28), date_of_birth=born)
    assert "turns 18 on 2026-03-01" in reasons["under_18"]
    assert "under_18" not in excluded_by(
        db_session, on_date=dt.date(2026, 3, 1), date_of_birth=born
    )


@pytest.mark.parametrize(
    "codes",
    [
        ["F03"],
        ["F03.90"],
        ["G30.1"],
        ["G31.0"],
        ["G31.1"],
        ["F00.1"],
        ["F02.8"],
        ["F06.7"],
        ["52448006"],
        ["26929004"],
        ["I10", "G30"],
    ],
)
def test_dementia_diagnosis_codes_exclude_with_or_without_a_suffix(
    db_session: Session, codes: list[str]
) -> None:
    reason = excluded_by(db_session, diagnosis_codes=codes)["dementia"]
    assert "diagnosis code" in reason


@pytest.mark.parametrize("codes", [["F04"], ["G31.2"], ["G3"], ["F30"], ["G310"], ["123456"]])
def test_near_miss_codes_do_not_exclude(db_session: Session, codes: list[str]) -> None:
    assert "dementia" not in excluded_by(db_session, diagnosis_codes=codes)


@pytest.mark.parametrize(
    ("flag", "rule_id"),
    [
        ("dementia", "dementia"),
        ("cognitive_impairment", "dementia"),
        ("deceased", "deceased"),
        ("safeguarding", "safeguarding"),
        ("lacks_capacity", "lacks_capacity"),
        ("no_automated_contact", "no_automated_contact"),
        ("learning_disability", "learning_disability"),
        ("reasonable_adjustment", "reasonable_adjustment"),
        ("cancer_pathway", "cancer_pathway"),
    ],
)
def test_each_protective_flag_excludes(db_session: Session, flag: str, rule_id: str) -> None:
    reasons = excluded_by(db_session, flags=[flag])
    assert list(reasons) == [rule_id]
    assert flag in reasons[rule_id]


def test_a_patient_who_needs_an_interpreter_is_not_called_automatically(
    db_session: Session,
) -> None:
    assert excluded_by(db_session, interpreter_required=True) == {
        "interpreter_required": "Interpreter needed: recorded on the extract"
    }


def test_a_date_of_death_excludes_without_the_flag(db_session: Session) -> None:
    reasons = excluded_by(db_session, date_of_death=dt.date(2026, 10, 1))
    assert reasons == {"deceased": "Patient recorded as deceased: date of death 2026-10-01"}


def test_no_usable_phone_excludes_but_a_landline_alone_is_enough(db_session: Session) -> None:
    assert "no_phone" in excluded_by(db_session, mobile_phone=None)
    assert excluded_by(db_session, mobile_phone=None, landline_phone="+441134960000") == {}


def test_an_opted_out_patient_is_excluded(db_session: Session) -> None:
    opted = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    assert "opted_out" in excluded_by(db_session, opted_out_at=opted)


def _attempt(session: Session, pathway: Pathway, status: AttemptStatus, ended: dt.datetime) -> None:
    script = CallScript(
        flow_id="f", version=1, content_hash="h", title="t", language="en-GB", content="{}"
    )
    session.add(script)
    session.flush()
    campaign = Campaign(name="c", cohort_id=pathway.cohort_id, call_script_id=script.id)
    session.add(campaign)
    session.flush()
    session.add(
        ContactAttempt(
            campaign_id=campaign.id,
            pathway_id=pathway.id,
            patient_id=pathway.patient_id,
            attempt_number=1,
            channel=Channel.VOICE,
            status=status,
            token=f"tok-{pathway.id}-{status}",
            due_at=ended,
            placed_at=ended,
            ended_at=ended,
        )
    )
    session.flush()


def test_a_patient_reached_in_the_last_30_days_is_excluded(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    _attempt(db_session, pathway, AttemptStatus.COMPLETED, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    ids = [
        r.rule_id
        for r in exclusion_reasons(db_session, pathway_id=pathway.id, rules=RULES, on_date=TODAY)
    ]
    assert ids == ["recently_contacted"]
    later = exclusion_reasons(
        db_session, pathway_id=pathway.id, rules=RULES, on_date=dt.date(2026, 12, 1)
    )
    assert later == []


def test_unanswered_attempts_do_not_block_retries(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    _attempt(db_session, pathway, AttemptStatus.NO_ANSWER, dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    assert exclusion_reasons(db_session, pathway_id=pathway.id, rules=RULES, on_date=TODAY) == []


def test_evaluation_stores_every_reason_and_replaces_them_next_time(db_session: Session) -> None:
    pathway = make_pathway(db_session, flags=["safeguarding", "deceased"])
    counts = evaluate_cohort(db_session, cohort_id=pathway.cohort_id, rules=RULES, on_date=TODAY)
    assert counts["safeguarding"] == 1 and counts["deceased"] == 1 and counts["under_18"] == 0
    stored = db_session.scalars(select(Exclusion).where(Exclusion.pathway_id == pathway.id)).all()
    assert sorted(e.rule_id for e in stored) == ["deceased", "safeguarding"]
    assert {e.rule_set_hash for e in stored} == {RULES.hash}
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.EXCLUDED

    pathway.flags = []
    db_session.flush()
    evaluate_cohort(db_session, cohort_id=pathway.cohort_id, rules=RULES, on_date=TODAY)
    db_session.refresh(pathway)
    assert str(pathway.outcome) == Outcome.PENDING.value
    assert (
        db_session.scalars(select(Exclusion).where(Exclusion.pathway_id == pathway.id)).all() == []
    )


def test_evaluation_does_not_overwrite_an_outcome_a_conversation_reached(
    db_session: Session,
) -> None:
    pathway = make_pathway(db_session, flags=["safeguarding"], outcome=Outcome.LEAVE)
    evaluate_cohort(db_session, cohort_id=pathway.cohort_id, rules=RULES, on_date=TODAY)
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.LEAVE
    assert exclusion_reasons(db_session, pathway_id=pathway.id, rules=RULES, on_date=TODAY)
