"""Validation rounds (one per validation of a pathway) and the rolling schedules opening them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow
from app.models.patient import Outcome
from app.models.review import Decision


class RoundStatus(StrEnum):
    """``open -> closed``; an undone removal reopens its round."""

    OPEN = "open"
    CLOSED = "closed"


class ValidationRound(Base):
    """One validation of one pathway: due date, contacts, answer, decision, export.

    The pathway's current status is its latest round; earlier rounds are its history.
    """

    __tablename__ = "validation_round"
    __table_args__ = (
        Index("ix_validation_round_pathway_number", "pathway_id", "number", unique=True),
        # The PAS export reads closed rounds not yet exported, in id order.
        Index("ix_validation_round_export", "status", "exported_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.OPEN)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    # The milestone that made it due ("12 weeks", "every 12 weeks", ...) or "campaign".
    reason: Mapped[str] = mapped_column(String(40), default="campaign")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome), default=Outcome.PENDING)
    outcome_at: Mapped[dt.datetime | None] = mapped_column()
    # The latest outcome and the decision of the round. Plain ids, not foreign keys: keys would
    # close a cycle (round -> outcome -> attempt -> round) that no table order can create.
    pathway_outcome_id: Mapped[int | None] = mapped_column(BigInteger)
    # The patient's answer to "would you travel to be treated sooner?" (None: not asked).
    willing_to_travel: Mapped[bool | None] = mapped_column()
    recorded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision))
    clinical_decision_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # When the pathway counted as validated, and by whom ("patient" or "clinician").
    validated_date: Mapped[dt.date | None] = mapped_column(Date)
    validated_by: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    exported_at: Mapped[dt.datetime | None] = mapped_column()


class ScheduleStatus(StrEnum):
    """An active schedule selects due pathways every day; a paused one waits."""

    ACTIVE = "active"
    PAUSED = "paused"


class ValidationSchedule(Base):
    """A rolling, date-relative schedule over a cohort, run under one standing campaign."""

    __tablename__ = "validation_schedule"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), unique=True)
    status: Mapped[ScheduleStatus] = mapped_column(
        str_enum(ScheduleStatus), default=ScheduleStatus.ACTIVE
    )
    milestone_weeks: Mapped[list[int]] = mapped_column(JSON, default=list)
    every_weeks: Mapped[int] = mapped_column(Integer, default=12)
    after_validation_weeks: Mapped[int] = mapped_column(Integer, default=12)
    # A pathway may be contacted from this many days before its due date.
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    last_run_date: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
