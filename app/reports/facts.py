"""One row per pathway of a campaign's cohort, with what happened to it: the base of every count.

Reports aggregate this subquery with GROUP BY; nothing loops over pathways in Python. The same
SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.selectable import CTE

from app.attempts import REACHED_PROVIDER
from app.models import (
    DEFINITIVE_OUTCOMES,
    Campaign,
    ClinicalDecision,
    ContactAttempt,
    Decision,
    Exclusion,
    Outcome,
    Pathway,
    PathwayOutcome,
    Patient,
    ReviewItem,
)

UNKNOWN = "Unknown"
# Outcomes a script can only reach after the patient's date of birth was confirmed (call-flows.md:
# nothing about care is said before a `verify` step succeeds).
VERIFIED_OUTCOMES = (Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED, Outcome.UNCLEAR)
# A definitive answer about the waiting list: the pathway is validated.
COMPLETED_OUTCOMES = DEFINITIVE_OUTCOMES
# The patient took part in a conversation (as opposed to never being reached, or opting out).
RESPONDED_OUTCOMES = (
    Outcome.STAY,
    Outcome.LEAVE,
    Outcome.WORSENED,
    Outcome.UNCLEAR,
    Outcome.UNVERIFIED,
    Outcome.CALLBACK_REQUESTED,
    Outcome.REPORTED_DECEASED,
)


AGE_BANDS = ((80, "80+"), (65, "65-79"), (40, "40-64"), (18, "18-39"))
UNDER_18 = "Under 18"


def years_before(day: dt.date, years: int) -> dt.date:
    """The date ``years`` before ``day`` (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _age_band(on_date: dt.date) -> ColumnElement[str]:
    """Age band at ``on_date``: someone born on or before the date N years earlier is N or over."""
    whens = [
        (Patient.date_of_birth <= years_before(on_date, age), label) for age, label in AGE_BANDS
    ]
    return case(*whens, else_=UNDER_18)


def _known(
    column: ColumnElement[str | None] | InstrumentedAttribute[str | None],
) -> ColumnElement[str]:
    """The value, or ``Unknown`` where nothing was recorded."""
    return func.coalesce(column, UNKNOWN)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """``1`` where ``condition`` holds, else ``0`` (summed to count)."""
    return case((condition, 1), else_=0)


def pathway_facts(campaign: Campaign, *, on_date: dt.date) -> CTE:
    """Per pathway in the campaign's cohort: its groups and 0/1 flags for each funnel stage.

    A materialized CTE: a report's grouped counts are the two branches of one UNION ALL over
    it (``grouped_counts``), so the per-pathway work (joins, set look-ups) is done once.
    """
    # Each flag is membership of a set of pathway ids: the database builds each set once (a
    # hashed subplan) instead of grouping 1.9 million attempts per pathway and joining the
    # groups in every parallel worker (at a million pathways that was half the report's time).
    of_campaign = ContactAttempt.campaign_id == campaign.id
    attempted = Pathway.id.in_(
        select(ContactAttempt.pathway_id).where(
            of_campaign, ContactAttempt.status.in_(REACHED_PROVIDER)
        )
    )
    answered = Pathway.id.in_(
        select(ContactAttempt.pathway_id).where(
            of_campaign, ContactAttempt.answered_at.is_not(None)
        )
    )
    latest_ids = (
        select(
            PathwayOutcome.pathway_id.label("pathway_id"),
            func.max(PathwayOutcome.id).label("outcome_id"),
        )
        .where(PathwayOutcome.campaign_id == campaign.id)
        .group_by(PathwayOutcome.pathway_id)
        .subquery("latest_ids")
    )
    latest = aliased(PathwayOutcome, name="latest")
    excluded = exists().where(Exclusion.pathway_id == Pathway.id)
    verified = exists().where(
        PathwayOutcome.pathway_id == Pathway.id,
        PathwayOutcome.campaign_id == campaign.id,
        PathwayOutcome.outcome.in_(VERIFIED_OUTCOMES),
    )
    removed = exists(
        select(literal(1))
        .select_from(ClinicalDecision)
        .join(ReviewItem, ReviewItem.id == ClinicalDecision.review_item_id)
        .where(
            ClinicalDecision.pathway_id == Pathway.id,
            ReviewItem.campaign_id == campaign.id,
            ClinicalDecision.decision == Decision.REMOVE,
            ClinicalDecision.undone_at.is_(None),
        )
    )
    excluded_flag = flag(excluded)
    # Each patient's first eligible pathway (the lowest id not excluded): summed over a group
    # of a patient characteristic it counts distinct eligible people without a sort per group,
    # and as a set it needs no sort of the cohort by patient (as a window over it did).
    others = aliased(Pathway, name="others")
    first_eligible = Pathway.id.in_(
        select(func.min(others.id))
        .where(
            others.cohort_id == campaign.cohort_id,
            ~exists().where(Exclusion.pathway_id == others.id),
        )
        .group_by(others.patient_id)
    )
    query = (
        select(
            Pathway.id.label("pathway_id"),
            flag(first_eligible).label("first_eligible"),
            Pathway.specialty_code.label("specialty_code"),
            Pathway.provider_code.label("provider_code"),
            _known(cast(Patient.imd_decile, String)).label("imd_decile"),
            _age_band(on_date).label("age_band"),
            _known(Patient.sex).label("sex"),
            _known(Patient.ethnic_category).label("ethnic_category"),
            _known(Patient.preferred_language).label("preferred_language"),
            excluded_flag.label("excluded"),
            flag(attempted).label("attempted"),
            flag(answered).label("answered"),
            flag(verified).label("verified"),
            latest.outcome.label("outcome"),
            flag(latest.outcome.in_(COMPLETED_OUTCOMES)).label("completed"),
            flag(latest.outcome.in_(RESPONDED_OUTCOMES)).label("responded"),
            flag(latest.outcome == Outcome.LEAVE).label("leave"),
            flag(latest.outcome == Outcome.WORSENED).label("worsened"),
            flag(removed).label("removed"),
        )
        .select_from(Pathway)
        .join(Patient, Patient.id == Pathway.patient_id)
        .outerjoin(latest_ids, latest_ids.c.pathway_id == Pathway.id)
        .outerjoin(latest, and_(latest.id == latest_ids.c.outcome_id))
        .where(Pathway.cohort_id == campaign.cohort_id)
    )
    return query.cte("facts").prefix_with("MATERIALIZED")


def total(column: ColumnElement[int]) -> ColumnElement[int]:
    """``SUM(column)`` that is 0, not NULL, over no rows, typed as an integer."""
    return func.coalesce(func.sum(column), 0, type_=Integer)


@dataclass(frozen=True)
class Counts:
    """What one group of pathways did (or, for dimension ``all``, the whole cohort).

    ``people`` counts distinct patients for equity dimensions and pathways elsewhere.
    """

    key: str
    people: int
    pathways: int
    excluded: int
    attempted: int
    answered: int
    verified: int
    completed: int
    responded: int
    leave: int
    worsened: int
    removed: int


@dataclass(frozen=True)
class Dimension:
    """A way to group the facts: by one of their columns (None: everyone together).

    ``eligible_only`` counts the eligible pathways and the distinct people among them; its
    column must be a patient's own characteristic (the same on all their pathways).
    """

    name: str
    column: str | None
    eligible_only: bool = False


def grouped_counts(
    session: Session, *, campaign: Campaign, on_date: dt.date, dimensions: list[Dimension]
) -> dict[str, list[Counts]]:
    """Counts per group for every dimension, in one statement of two grouped passes over the
    materialized facts.

    Every measure is a count or a sum, so a dimension's groups are sums of finer groups: one
    pass groups all pathways by every column the dimensions name, the other the eligible ones
    by every column of the eligible-only dimensions, and each dimension adds up those rows. The
    facts (a million rows at a national size) are read twice rather than once per dimension.
    """
    facts = pathway_facts(campaign, on_date=on_date)
    c = facts.c
    sums = [total(c[name]) for name in _MEASURES]
    passes = {
        eligible_only: [d for d in dimensions if d.eligible_only == eligible_only]
        for eligible_only in (False, True)
    }
    # Both passes in one UNION ALL (one computation of the facts), each row carrying every
    # grouping column: NULL where its pass does not group by it.
    columns = sorted({d.column for d in dimensions if d.column is not None})
    branches = []
    for eligible_only, chosen in passes.items():
        if not chosen:
            continue
        grouped = sorted({d.column for d in chosen if d.column is not None})
        # Distinct people matter only where groups of people are judged (suppression); those
        # groups are of a patient's own characteristics, shared by all their pathways, so the
        # first eligible pathway of each patient counts them.
        people = total(c.first_eligible) if eligible_only else func.count()
        keys = [
            cast(c[name], String) if name in grouped else cast(null(), String) for name in columns
        ]
        measures: list[ColumnElement[Any]] = [people, func.count(), *sums]
        branch = select(literal(eligible_only).label("eligible_only"), *keys, *measures)
        if grouped:
            branch = branch.group_by(*(c[name] for name in grouped))
        if eligible_only:
            branch = branch.where(c.excluded == 0)
        branches.append(branch)
    rows = session.execute(union_all(*branches)).all() if branches else []
    result: dict[str, list[Counts]] = {}
    for dimension in dimensions:
        place = None if dimension.column is None else 1 + columns.index(dimension.column)
        added: dict[str, list[int]] = {}
        for row in rows:
            if bool(row[0]) != dimension.eligible_only:
                continue
            # Only the outcome can be NULL here (no outcome yet); the other keys are coalesced.
            # Everyone together is the one group "".
            key = "" if place is None else _key(row[place])
            into = added.setdefault(key, [0] * len(_MEASURES_WITH_COUNTS))
            for i, value in enumerate(row[1 + len(columns) :]):
                into[i] += int(value)
        result[dimension.name] = [Counts(key, *values) for key, values in added.items()]
    return result


# The 0/1 flags of the facts that every group sums, in the order of :class:`Counts`' fields.
_MEASURES = (
    "excluded",
    "attempted",
    "answered",
    "verified",
    "completed",
    "responded",
    "leave",
    "worsened",
    "removed",
)


# People, pathways and the flags: the values of a :class:`Counts` after its key.
_MEASURES_WITH_COUNTS = ("people", "pathways", *_MEASURES)


def _key(value: object) -> str:
    return UNKNOWN if value is None else str(value)
