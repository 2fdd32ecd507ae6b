"""Across validation rounds: how answers change round by round, and who would travel sooner.

Both group the round table by specialty and provider, together in one statement (the same SQL
on SQLite and PostgreSQL); small cells are left to the page's suppression like every other count.
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


@dataclass(frozen=True)
class RoundBreakdowns:
    """The trend across rounds and the willingness to travel, from one pass over the rounds."""

    trend: list[RoundTrendRow]
    mutual_aid: list[MutualAidRow]


def round_breakdowns(session: Session, *, cohort_id: int | None = None) -> RoundBreakdowns:
    """Outcomes per round number, and willingness to travel (latest answers), per specialty
    and provider.

    One statement grouped by specialty, provider and round number: the willingness counts of a
    specialty and provider are the sums over its round numbers, so the rounds (a million at a
    national size) are joined to their pathways once, not once per breakdown.
    """
    asked = ValidationRound.willing_to_travel.is_not(None)
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
            total(flag(asked)),
            total(flag(ValidationRound.willing_to_travel.is_(True))),
        )
        .join(Pathway, Pathway.id == ValidationRound.pathway_id)
        .group_by(Pathway.specialty_code, Pathway.provider_code, ValidationRound.number)
        .order_by(Pathway.specialty_code, Pathway.provider_code, ValidationRound.number)
    )
    if cohort_id is not None:
        query = query.where(Pathway.cohort_id == cohort_id)
    trend: list[RoundTrendRow] = []
    # In the statement's order, so the willingness rows come out sorted as the trend's.
    travel: dict[tuple[str, str], tuple[int, int]] = {}
    for specialty, provider, number, *counts in session.execute(query):
        *outcomes, asked_count, willing_count = (int(v) for v in counts)
        trend.append(RoundTrendRow(specialty, provider, int(number), *outcomes))
        if asked_count:
            before = travel.get((specialty, provider), (0, 0))
            travel[specialty, provider] = (before[0] + asked_count, before[1] + willing_count)
    aid = [
        MutualAidRow(specialty, provider, asked_count, willing_count)
        for (specialty, provider), (asked_count, willing_count) in travel.items()
    ]
    return RoundBreakdowns(trend=trend, mutual_aid=aid)


def rounds_report(session: Session, *, cohort_id: int | None = None) -> dict[str, Any]:
    """Both breakdowns as JSON, small groups suppressed (left out, and counted as such)."""
    breakdowns = round_breakdowns(session, cohort_id=cohort_id)
    trend, aid = breakdowns.trend, breakdowns.mutual_aid
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
