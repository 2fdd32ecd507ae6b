"""Call status and answering-machine callbacks: move the attempt forward, never backwards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AttemptStatus, ContactAttempt

OPEN = (AttemptStatus.PLACING, AttemptStatus.PLACED, AttemptStatus.IN_PROGRESS)
# Which earlier states each new state may be reached from (a terminal state is final). An
# ``in_doubt`` attempt belongs to the dispatcher's reconciliation, which asks the provider.
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

# Guarded UPDATEs built once, run as Core on the session's connection: building an ORM UPDATE
# and its cache key cost more than running it. Their SET clause is the keys of the parameters
# passed with each execution; none of them touches objects already loaded in the session.
_ADVANCE = update(ContactAttempt).where(
    ContactAttempt.id == bindparam("attempt_id"),
    ContactAttempt.status.in_(bindparam("from_statuses", expanding=True)),
)
_RECORD_SID = update(ContactAttempt).where(
    ContactAttempt.id == bindparam("attempt_id"), ContactAttempt.provider_sid.is_(None)
)
_RECORD_ANSWERED_BY = update(ContactAttempt).where(
    ContactAttempt.id == bindparam("attempt_id"), ContactAttempt.answered_by.is_(None)
)
# A late or repeated callback fills a duration nobody recorded yet; it never overwrites one.
_FILL_DURATION = update(ContactAttempt).where(
    ContactAttempt.id == bindparam("attempt_id"), ContactAttempt.duration_seconds.is_(None)
)


def is_machine(answered_by: str | None) -> bool:
    """Whether AMD said a machine (or fax) answered: such a call gets no clinical detail."""
    return bool(answered_by) and str(answered_by).startswith(MACHINE_PREFIXES)


def advance(
    session: Session,
    *,
    attempt_id: int,
    to: AttemptStatus,
    only_from: tuple[AttemptStatus, ...] | None = None,
    **values: Any,
) -> bool:
    """Move the attempt to ``to`` if it is in a state that may precede it; True if it moved.

    ``only_from`` narrows those states further for an event that must not end a contact which
    has gone past them (a late delivery failure after the patient has replied).
    """
    from_statuses = PREDECESSORS[to]
    if only_from is not None:
        from_statuses = tuple(status for status in from_statuses if status in only_from)
    result = session.connection().execute(
        _ADVANCE,
        {
            "attempt_id": attempt_id,
            "from_statuses": from_statuses,
            "status": to,
            "updated_at": utcnow(),
            **values,
        },
    )
    return bool(result.rowcount == 1)


def record_sid(session: Session, *, attempt_id: int, sid: str) -> None:
    """Remember the provider's SID if the dispatcher has not recorded it yet (webhooks race it)."""
    if not sid:
        return
    session.connection().execute(_RECORD_SID, {"attempt_id": attempt_id, "provider_sid": sid})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def apply_call_status(
    session: Session, *, attempt: ContactAttempt, params: Mapping[str, str]
) -> None:
    """Apply one call-progress callback (in any order, any number of times).

    One guarded UPDATE in the usual case: the new state and the duration (and, the first time,
    the SID if the dispatcher has not recorded it yet). A callback that cannot move the attempt
    (it arrived late, after a final state) erases nothing: it may only fill a missing duration.
    """
    sid = params.get("CallSid", "")
    duration = _int(params.get("CallDuration"))
    target = CALL_STATUS.get(params.get("CallStatus", ""))
    details: dict[str, Any] = {}
    if sid and attempt.provider_sid is None:
        record_sid(session, attempt_id=attempt.id, sid=sid)
    if duration is not None:
        details["duration_seconds"] = duration
    moved = False
    if target is not None:
        now = utcnow()
        extra: dict[str, Any] = dict(details)
        if target is AttemptStatus.IN_PROGRESS:
            extra["answered_at"] = now
        elif target is not AttemptStatus.PLACED:
            extra["ended_at"] = now
            if target is not AttemptStatus.COMPLETED:
                extra["error_code"] = params.get("SipResponseCode") or params.get("ErrorCode")
            elif is_machine(attempt.answered_by):
                target = AttemptStatus.VOICEMAIL
        moved = advance(session, attempt_id=attempt.id, to=target, **extra)
    if details and not moved:
        session.connection().execute(_FILL_DURATION, {"attempt_id": attempt.id, **details})


def apply_amd(session: Session, *, attempt: ContactAttempt, params: Mapping[str, str]) -> bool:
    """Record who answered; a machine ends the attempt as ``voicemail``. True for a machine."""
    answered_by = params.get("AnsweredBy", "unknown")[:32]
    record_sid(session, attempt_id=attempt.id, sid=params.get("CallSid", ""))
    session.connection().execute(
        _RECORD_ANSWERED_BY, {"attempt_id": attempt.id, "answered_by": answered_by}
    )
    if not is_machine(answered_by):
        return False
    advance(session, attempt_id=attempt.id, to=AttemptStatus.VOICEMAIL, ended_at=utcnow())
    return True
