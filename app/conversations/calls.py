"""Call status and answering-machine callbacks: move the attempt forward, never backwards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AttemptStatus, ContactAttempt

OPEN = (AttemptStatus.PLACING, AttemptStatus.PLACED, AttemptStatus.IN_PROGRESS)
# Which earlier states each new state may be reached from (a terminal state is final).
PREDECESSORS: dict[AttemptStatus, tuple[AttemptStatus, ...]] = {
    AttemptStatus.PLACED: (AttemptStatus.PLACING,),
    AttemptStatus.IN_PROGRESS: (AttemptStatus.PLACING, AttemptStatus.PLACED),
    AttemptStatus.COMPLETED: OPEN,
    AttemptStatus.NO_ANSWER: OPEN,
    AttemptStatus.BUSY: OPEN,
    AttemptStatus.FAILED: OPEN,
    AttemptStatus.VOICEMAIL: OPEN,
    AttemptStatus.CANCELLED: OPEN,
}
CALL_STATUS: dict[str, AttemptStatus] = {
    "queued": AttemptStatus.PLACED,
    "initiated": AttemptStatus.PLACED,
    "ringing": AttemptStatus.PLACED,
    "in-progress": AttemptStatus.IN_PROGRESS,
    "completed": AttemptStatus.COMPLETED,
    "busy": AttemptStatus.BUSY,
    "no-answer": AttemptStatus.NO_ANSWER,
    "failed": AttemptStatus.FAILED,
    "canceled": AttemptStatus.CANCELLED,
}
MACHINE_PREFIXES = ("machine", "fax")


def is_machine(answered_by: str | None) -> bool:
    """Whether AMD said a machine (or fax) answered: such a call gets no clinical detail."""
    return bool(answered_by) and str(answered_by).startswith(MACHINE_PREFIXES)


def advance(session: Session, *, attempt_id: int, to: AttemptStatus, **values: Any) -> bool:
    """Move the attempt to ``to`` if it is in a state that may precede it; True if it moved."""
    result = session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.status.in_(PREDECESSORS[to]))
        .values(status=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def record_sid(session: Session, *, attempt_id: int, sid: str) -> None:
    """Remember the provider's SID if the dispatcher has not recorded it yet (webhooks race it)."""
    if not sid:
        return
    session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt_id, ContactAttempt.provider_sid.is_(None))
        .values(provider_sid=sid)
        .execution_options(synchronize_session=False)
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def apply_call_status(
    session: Session, *, attempt: ContactAttempt, params: Mapping[str, str]
) -> None:
    """Apply one call-progress callback (in any order, any number of times)."""
    record_sid(session, attempt_id=attempt.id, sid=params.get("CallSid", ""))
    target = CALL_STATUS.get(params.get("CallStatus", ""))
    if target is None:
        return
    now = utcnow()
    duration = _int(params.get("CallDuration"))
    if duration is not None:
        session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.id == attempt.id)
            .values(duration_seconds=duration)
            .execution_options(synchronize_session=False)
        )
    if target is AttemptStatus.IN_PROGRESS:
        advance(session, attempt_id=attempt.id, to=target, answered_at=now)
        return
    if target is AttemptStatus.PLACED:
        advance(session, attempt_id=attempt.id, to=target)
        return
    extra: dict[str, Any] = {"ended_at": now}
    if target is not AttemptStatus.COMPLETED:
        extra["error_code"] = params.get("SipResponseCode") or params.get("ErrorCode")
    if target is AttemptStatus.COMPLETED and is_machine(attempt.answered_by):
        target = AttemptStatus.VOICEMAIL
    advance(session, attempt_id=attempt.id, to=target, **extra)


def apply_amd(session: Session, *, attempt: ContactAttempt, params: Mapping[str, str]) -> bool:
    """Record who answered; a machine ends the attempt as ``voicemail``. True for a machine."""
    answered_by = params.get("AnsweredBy", "unknown")[:32]
    record_sid(session, attempt_id=attempt.id, sid=params.get("CallSid", ""))
    session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.id == attempt.id, ContactAttempt.answered_by.is_(None))
        .values(answered_by=answered_by)
        .execution_options(synchronize_session=False)
    )
    if not is_machine(answered_by):
        return False
    advance(session, attempt_id=attempt.id, to=AttemptStatus.VOICEMAIL, ended_at=utcnow())
    return True
