"""Answers given in conversations and the outcomes they lead to, with their history kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow
from app.models.patient import Outcome


class Answer(Base):
    """One turn of a conversation: what was asked, what came back, what we understood."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("contact_attempt_id", "step", "turn"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contact_attempt_id: Mapped[int] = mapped_column(ForeignKey("contact_attempt.id"))
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    step: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    input_kind: Mapped[str] = mapped_column(String(8))
    raw_input: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    interpretation: Mapped[str | None] = mapped_column(String(64))
    recorded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    flow_hash: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PathwayOutcome(Base):
    """An outcome reached for a pathway; the newest decides, older ones are history."""

    __tablename__ = "pathway_outcome"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    contact_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempt.id"))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    recorded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
