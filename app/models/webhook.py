"""Raw provider callbacks, stored once under a unique key so duplicates change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, utcnow


class WebhookEvent(Base):
    """One verified callback exactly as received."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("source", "external_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    external_key: Mapped[str] = mapped_column(String(200))
    contact_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_attempt.id"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
