"""Across validation rounds: how answers change round by round, and who would travel sooner.

Both group the round table by specialty and provider in one statement each (the same SQL on
SQLite and PostgreSQL); small cells are left to the page's suppression like every other count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Outcome, Pathway, ValidationRound
from app.reports.facts import flag, total
from app.reports.suppression import suppressed_groups


@dataclass(frozen=True)
class RoundTrendRow:
    """One specialty and provider at one round number: what the patients said."""

    specialty_code: str
    provider_code: str
    round: int
    rounds: int
    stay: int
    leave: int
    worsened: int
    unreachable: int
    validated: int

    @property
    def key(self) -> str:
        """The group's name for suppression."""
        return f"{self.specialty_code}/{self.provider_code}/{self.round}"


@dataclass(frozen=True)
class MutualAidRow:
    """Answers to "would you travel to another hospital to be treated sooner?"."""

    specialty_code: str
    provider_code: str
    asked: int
    willing: int

    @property
    def key(self) -> str:
        """The group's name for suppression."""
        return f"{self.specialty_code}/{self.provider_code}"

    @property
    def willing_share(self) -> float | None:
        """The share who would travel, of those who answered."""
        return self.willing / self.asked if self.asked else None


def round_trend(session: Session, *, cohort_id: int | None = None) -> list[RoundTrendRow]:
    """Outcomes per round number, per specialty and provider (the trend across rounds)."""
    query = (
        select(
            Pathway.specialty_code,
            Pathway.provider_code,
            ValidationRound.number,
            func.count(),
            *(
                total(flag(ValidationRound.outcome == outcome))
                for outcome in (Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED, Outcome.UNREACHABLE)
            ),
            total(flag(ValidationRound.validated_date.is_not(None))),
        )
        .join(Pathway, Pathway.id == ValidationRound.pathway_id)
        .group_by(Pathway.specialty_code, Pathway.provider_code, ValidationRound.number)
        .order_by(Pathway.specialty_code, Pathway.provider_code, ValidationRound.number)
    )
    if cohort_id is not None:
        query = query.where(Pathway.cohort_id == cohort_id)
    return [RoundTrendRow(*(r[0], r[1]), *(int(v) for v in r[2:])) for r in session.execute(query)]


def mutual_aid(session: Session, *, cohort_id: int | None = None) -> list[MutualAidRow]:
    """Willingness to travel for sooner treatment, by specialty and provider (latest answers)."""
    query = (
        select(
            Pathway.specialty_code,
            Pathway.provider_code,
            func.count(),
            total(flag(ValidationRound.willing_to_travel.is_(True))),
        )
        .join(Pathway, Pathway.id == ValidationRound.pathway_id)
        .where(ValidationRound.willing_to_travel.is_not(None))
        .group_by(Pathway.specialty_code, Pathway.provider_code)
        .order_by(Pathway.specialty_code, Pathway.provider_code)
    )
    if cohort_id is not None:
        query = query.where(Pathway.cohort_id == cohort_id)
    return [MutualAidRow(r[0], r[1], int(r[2]), int(r[3])) for r in session.execute(query)]


def rounds_report(session: Session, *, cohort_id: int | None = None) -> dict[str, Any]:
    """Both breakdowns as JSON, small groups suppressed (left out, and counted as such)."""
    trend = round_trend(session, cohort_id=cohort_id)
    aid = mutual_aid(session, cohort_id=cohort_id)
    hidden_trend = suppressed_groups({row.key: row.rounds for row in trend})
    hidden_aid = suppressed_groups({row.key: row.asked for row in aid})
    return {
        "round_trend": [asdict(row) for row in trend if row.key not in hidden_trend],
        "mutual_aid": [
            asdict(row) | {"willing_share": row.willing_share}
            for row in aid
            if row.key not in hidden_aid
        ],
        "suppressed_groups": len(hidden_trend) + len(hidden_aid),
    }
