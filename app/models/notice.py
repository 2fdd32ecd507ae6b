"""Notices: short texts beside the conversation (the pre-call SMS, the reminders), in an outbox.

A notice is never a conversation: it says who is writing and the number to call, nothing about
the patient, and asks nothing. ``app.notices`` holds its states and moves them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class NoticeKind(StrEnum):
    """What a notice is for (also the Notify template kind it is sent with)."""

    # The day before the round's first call: "we will call you from 0113 ...".
    PRE_CALL = "pre_call"
    # Days after an unanswered closing SMS, before the patient is marked unreachable.
    REMINDER = "reminder"


class NoticeStatus(StrEnum):
    """States of one notice; ``app.notices.TRANSITIONS`` says which may follow which."""

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    IN_DOUBT = "in_doubt"


class ContactNotice(Base):
    """One notice to one pathway's patient, planned ahead and sent at most once."""

    __tablename__ = "contact_notice"
    __table_args__ = (
        Index("ix_contact_notice_due", "status", "due_at"),
        # Two workers planning the same notice: the second insert is refused.
        Index(
            "ix_contact_notice_attempt_kind",
            "contact_attempt_id",
            "kind",
            "sequence",
            unique=True,
        ),
        Index("ix_contact_notice_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    validation_round_id: Mapped[int | None] = mapped_column(ForeignKey("validation_round.id"))
    # The call a pre-call notice announces, or the closing SMS a reminder follows.
    contact_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempt.id"))
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    # 1 for the pre-call notice; the reminders of one closing SMS count 1, 2, ...
    sequence: Mapped[int] = mapped_column(SmallInteger, default=1)
    due_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[NoticeStatus] = mapped_column(
        str_enum(NoticeStatus), default=NoticeStatus.PLANNED
    )
    to_number: Mapped[str] = mapped_column(String(16))
    # Unguessable: the delivery receipt's callback URL (Twilio) or reference (Notify) carries it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
