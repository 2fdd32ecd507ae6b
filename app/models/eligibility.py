"""Exclusions: which rule kept a pathway from automated contact, and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, utcnow


class Exclusion(Base):
    """One rule that excluded one pathway at its latest evaluation."""

    __tablename__ = "exclusion"
    __table_args__ = (UniqueConstraint("pathway_id", "rule_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    rule_set_hash: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
