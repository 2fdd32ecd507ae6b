"""Patients and their waiting-list pathways, as imported from the hospital's tracking list."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class PathwayStatus(StrEnum):
    """Whether a pathway is still on the hospital's latest extract."""

    OPEN = "open"
    CLOSED = "closed"


class Outcome(StrEnum):
    """What the service currently believes about a pathway (latest conversation decides)."""

    PENDING = "pending"
    STAY = "stay"
    LEAVE = "leave"
    WORSENED = "worsened"
    UNVERIFIED = "unverified"
    UNCLEAR = "unclear"
    CALLBACK_REQUESTED = "callback_requested"
    # Someone answering said the patient has died: staff check before anything changes.
    REPORTED_DECEASED = "reported_deceased"
    UNREACHABLE = "unreachable"
    OPTED_OUT = "opted_out"
    EXCLUDED = "excluded"


# A definitive answer about the waiting list (the patient said stay, leave or worsened): the
# pathway is validated by it. Reports, the dashboard and the worklist all count these.
DEFINITIVE_OUTCOMES = (Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED)


class Patient(Base):
    """A person, keyed by NHS number; contact details are stored as E.164."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    postcode: Mapped[str | None] = mapped_column(String(8))
    imd_decile: Mapped[int | None] = mapped_column(SmallInteger)
    ethnic_category: Mapped[str | None] = mapped_column(String(2))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    interpreter_required: Mapped[bool] = mapped_column(Boolean, default=False)
    mobile_phone: Mapped[str | None] = mapped_column(String(16), index=True)
    landline_phone: Mapped[str | None] = mapped_column(String(16), index=True)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Pathway(Base):
    """One open referral-to-treatment pathway: the unit we validate and clinicians decide on."""

    __tablename__ = "pathway"
    __table_args__ = (
        UniqueConstraint("provider_code", "pathway_id"),
        Index("ix_pathway_cohort_status", "cohort_id", "status"),
        # The daily selection of a schedule: "open pathways of this cohort due by then", in its
        # order (due date, then id), so the database stops at the daily limit without a sort.
        Index("ix_pathway_next_due", "cohort_id", "status", "next_due_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider_code: Mapped[str] = mapped_column(String(12))
    pathway_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    last_import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_job.id"))
    status: Mapped[PathwayStatus] = mapped_column(
        str_enum(PathwayStatus), default=PathwayStatus.OPEN
    )
    local_patient_id: Mapped[str | None] = mapped_column(String(32))
    specialty_code: Mapped[str] = mapped_column(String(3))
    specialty_name: Mapped[str | None] = mapped_column(String(100))
    clock_start_date: Mapped[dt.date] = mapped_column(Date)
    priority: Mapped[str | None] = mapped_column(String(2))
    waiting_list_type: Mapped[str | None] = mapped_column(String(4))
    planned_procedure: Mapped[str | None] = mapped_column(String(200))
    consultant_code: Mapped[str | None] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(64))
    last_validated_date: Mapped[dt.date | None] = mapped_column(Date)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    row_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome), default=Outcome.PENDING)
    outcome_at: Mapped[dt.datetime | None] = mapped_column()
    # When the newest definitive answer (``DEFINITIVE_OUTCOMES``) was recorded: the latest of
    # its outcomes' times, kept by ``record_outcome`` so the dashboard reads it off the row
    # instead of aggregating every outcome ever recorded.
    last_answer_at: Mapped[dt.datetime | None] = mapped_column()
    # When the next validation round falls due (None while one is under way, or never set).
    next_due_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
