"""Notices for tests: one row of the outbox in a given state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.campaigns.notices import new_notice_token
from app.db import utcnow
from app.models import ContactAttempt, ContactNotice, NoticeKind, NoticeStatus


def make_notice(
    session: Session,
    *,
    attempt: ContactAttempt,
    kind: NoticeKind = NoticeKind.PRE_CALL,
    status: NoticeStatus = NoticeStatus.PLANNED,
    sequence: int = 1,
    due_at: dt.datetime | None = None,
    **fields: Any,
) -> ContactNotice:
    """A notice about ``attempt`` (the call it announces, or the text it follows)."""
    notice = ContactNotice(
        campaign_id=attempt.campaign_id,
        pathway_id=attempt.pathway_id,
        patient_id=attempt.patient_id,
        validation_round_id=attempt.validation_round_id,
        contact_attempt_id=attempt.id,
        kind=kind,
        sequence=sequence,
        due_at=due_at or utcnow() - dt.timedelta(minutes=1),
        status=status,
        to_number=attempt.to_number or "+447700900123",
        token=new_notice_token(),
        **fields,
    )
    session.add(notice)
    session.flush()
    return notice
