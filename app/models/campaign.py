"""Campaigns and their contact attempts: the outbox the dispatcher works through."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class CampaignStatus(StrEnum):
    """``draft -> scheduled -> running <-> paused -> completed | cancelled``."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    """How a contact reaches the patient."""

    VOICE = "voice"
    SMS = "sms"


class AttemptStatus(StrEnum):
    """States of one contact; see docs/architecture.md for the transitions."""

    PLANNED = "planned"
    CLAIMED = "claimed"
    PLACING = "placing"
    PLACED = "placed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    VOICEMAIL = "voicemail"
    CANCELLED = "cancelled"
    IN_DOUBT = "in_doubt"


class Campaign(Base):
    """A script run against a cohort under a schedule and an attempt policy."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    call_script_id: Mapped[int] = mapped_column(ForeignKey("call_script.id"))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.DRAFT
    )
    starts_at: Mapped[dt.datetime | None] = mapped_column()
    calling_windows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempt_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    calls_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which provider the texts go through: "telephony" (as the calls) or "notify".
    sms_provider: Mapped[str] = mapped_column(
        String(16), default="telephony", server_default="telephony"
    )
    rule_set: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class ContactAttempt(Base):
    """One call or SMS to one pathway's patient; committed before anything reaches the provider."""

    __tablename__ = "contact_attempt"
    __table_args__ = (
        Index("ix_contact_attempt_due", "status", "due_at"),
        # "Is another call in flight to this number?", asked at every placement, reads the
        # number's few attempts. Without it PostgreSQL found the in-flight rows through the
        # status index, whose dead entries grow with every status change until a vacuum: 0.5 s
        # a placement a third of the way through a national day.
        Index("ix_contact_attempt_number_status", "to_number", "status"),
        # "Has this campaign anything queued or in flight?" is a probe, not a scan.
        Index("ix_contact_attempt_campaign_status", "campaign_id", "status"),
        Index(
            "ix_contact_attempt_campaign_pathway",
            "campaign_id",
            "pathway_id",
            "attempt_number",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    attempt_number: Mapped[int] = mapped_column(SmallInteger)
    # The validation round this contact belongs to (the contacts made in that round).
    validation_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("validation_round.id"), index=True
    )
    # The script in the patient's preferred language, where it differs from the campaign's.
    call_script_id: Mapped[int | None] = mapped_column(ForeignKey("call_script.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[AttemptStatus] = mapped_column(
        str_enum(AttemptStatus), default=AttemptStatus.PLANNED
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    due_at: Mapped[dt.datetime] = mapped_column()
    to_number: Mapped[str | None] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    fence: Mapped[int] = mapped_column(Integer, default=0)
    retry_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    dispatched_at: Mapped[dt.datetime | None] = mapped_column()
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    conversation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    placed_at: Mapped[dt.datetime | None] = mapped_column()
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RateBudget(Base):
    """A token bucket shared by every worker: one row per Twilio account (and per campaign)."""

    __tablename__ = "rate_budget"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[float] = mapped_column(Float)
