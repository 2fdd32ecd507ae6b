"""The clinical review queue and the decisions clinicians make on it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class ReviewStatus(StrEnum):
    """``open -> decided``; an undone removal reopens the item."""

    OPEN = "open"
    DECIDED = "decided"


class Decision(StrEnum):
    """What a clinician decided for a pathway."""

    REMOVE = "remove"
    KEEP = "keep"
    EXPEDITE = "expedite"
    CALL_BACK = "call_back"


class ReviewItem(Base):
    """A pathway waiting for a clinician, ordered by ``rank`` (worsened first)."""

    __tablename__ = "review_item"
    __table_args__ = (
        Index("ix_review_item_queue", "status", "rank", "priority_rank", "clock_start_date", "id"),
        # Clinicians work their own specialty: its queue in order without a scan.
        Index(
            "ix_review_item_specialty_queue",
            "status",
            "specialty_code",
            "rank",
            "priority_rank",
            "clock_start_date",
            "id",
        ),
        # Counts per reason (under any filter) from the index alone.
        Index(
            "ix_review_item_counts",
            "status",
            "reason",
            "specialty_code",
            "provider_code",
            "campaign_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    pathway_outcome_id: Mapped[int | None] = mapped_column(ForeignKey("pathway_outcome.id"))
    reason: Mapped[str] = mapped_column(String(24))
    rank: Mapped[int] = mapped_column(SmallInteger)
    priority_rank: Mapped[int] = mapped_column(SmallInteger)
    specialty_code: Mapped[str] = mapped_column(String(3))
    provider_code: Mapped[str] = mapped_column(String(12))
    clock_start_date: Mapped[dt.date] = mapped_column()
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus), default=ReviewStatus.OPEN)
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ClinicalDecision(Base):
    """A clinician's decision on a review item; removals carry a confirmed RTT status code."""

    __tablename__ = "clinical_decision"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    rtt_status_code: Mapped[str | None] = mapped_column(String(2))
    # Expedite raises the surgical priority to this value (P1..P6).
    new_priority: Mapped[str | None] = mapped_column(String(2))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A removal can be undone (by a clinician, or by the patient replying again) until then.
    undoable_until: Mapped[dt.datetime | None] = mapped_column()
    undone_at: Mapped[dt.datetime | None] = mapped_column()
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    exported_at: Mapped[dt.datetime | None] = mapped_column(index=True)
