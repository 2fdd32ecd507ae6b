"""The staff worklist: one task per human follow-up, and the letters sent to close the loop."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class TaskReason(StrEnum):
    """Why a person must follow a patient up (each has its own list filter and count)."""

    UNVERIFIED = "unverified"
    CALLBACK_REQUESTED = "callback_requested"
    UNCLEAR = "unclear"
    UNREACHABLE = "unreachable"
    OPTED_OUT = "opted_out"
    LANGUAGE = "language"
    ACCESS = "access"
    REPORTED_DECEASED = "reported_deceased"
    CLINICIAN_CALL_BACK = "clinician_call_back"
    LETTER = "letter"


class TaskState(StrEnum):
    """``open -> done | cancelled``; ``cancelled`` only when the service itself resolved it."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class LetterKind(StrEnum):
    """The letters the service prepares for printing."""

    NON_RESPONDER = "non_responder"
    REMOVAL_CONFIRMATION = "removal_confirmation"
    GP_DISCHARGE = "gp_discharge"


class WorklistTask(Base):
    """A follow-up a person owes a patient: why, by when, who has it, and how it ended."""

    __tablename__ = "worklist_task"
    __table_args__ = (
        Index("ix_worklist_task_list", "state", "reason", "due_date", "id"),
        Index("ix_worklist_task_pathway", "pathway_id", "reason", "state"),
        # The escalation sweep: open tasks not yet escalated, by due date.
        Index("ix_worklist_task_escalation", "state", "escalated_at", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    reason: Mapped[TaskReason] = mapped_column(str_enum(TaskReason))
    # What exactly (a rule's reason, the clinician's note, the letter kind); shown to staff.
    detail: Mapped[str | None] = mapped_column(String(500))
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))
    state: Mapped[TaskState] = mapped_column(str_enum(TaskState), default=TaskState.OPEN)
    due_date: Mapped[dt.date] = mapped_column(Date)
    # Ranks first in every list (a death, a call back a clinician or a worsening patient asked
    # for, an unclear answer): see ``app/worklist/escalation.py``.
    safety_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the task was first escalated as overdue (once; the due date may move on after).
    escalated_at: Mapped[dt.datetime | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(100))


class Letter(Base):
    """A letter prepared for printing (PDF kept as made), and when it was sent."""

    __tablename__ = "letter"
    # One letter of each kind per removal, however many workers prepare letters at once.
    __table_args__ = (UniqueConstraint("clinical_decision_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[LetterKind] = mapped_column(str_enum(LetterKind))
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    # The removal a confirmation or discharge letter communicates (RTT Rule 5).
    clinical_decision_id: Mapped[int | None] = mapped_column(ForeignKey("clinical_decision.id"))
    addressee: Mapped[str] = mapped_column(String(200))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    letter_date: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    sent_by: Mapped[str | None] = mapped_column(String(100))
