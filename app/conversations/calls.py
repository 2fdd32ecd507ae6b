"""Call status and answering-machine callbacks: move the attempt forward, never backwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from app.attempts import ATTEMPT_STATUS, advance
from app.db import utcnow
from app.models import AttemptStatus, ContactAttempt
from app.telephony.events import CallProgress, ContactState, MachineDetection, is_machine

# Guarded UPDATEs built once, run as Core on the session's connection: building an ORM UPDATE
# and its cache key cost more than running it. Their SET clause is the keys of the parameters
# passed with each execution; none of them touches objects already loaded in the session.
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


def record_sid(session: Session, *, attempt: ContactAttempt, sid: str) -> None:
    """Remember the provider's SID if the dispatcher has not recorded it yet (webhooks race it).

    ``attempt`` is the row as this request read it: once it has a SID (one attempt is one call
    or text, and its SID is never cleared) the guarded UPDATE could change nothing, so it is not
    sent; most callbacks arrive after the dispatcher has recorded the SID.
    """
    if not sid or attempt.provider_sid is not None:
        return
    session.connection().execute(_RECORD_SID, {"attempt_id": attempt.id, "provider_sid": sid})


def apply_call_status(session: Session, *, attempt: ContactAttempt, event: CallProgress) -> None:
    """Apply one call-progress callback (in any order, any number of times).

    One guarded UPDATE in the usual case: the new state and the duration (and, the first time,
    the SID if the dispatcher has not recorded it yet). A callback that cannot move the attempt
    (it arrived late, after a final state) erases nothing: it may only fill a missing duration.
    """
    details: dict[str, Any] = {}
    record_sid(session, attempt=attempt, sid=event.call_sid)
    if event.duration_seconds is not None:
        details["duration_seconds"] = event.duration_seconds
    moved = False
    target = ATTEMPT_STATUS.get(event.state) if event.state is not None else None
    if target is not None:
        now = utcnow()
        extra: dict[str, Any] = dict(details)
        if target is AttemptStatus.IN_PROGRESS:
            extra["answered_at"] = now
        elif target is not AttemptStatus.PLACED:
            extra["ended_at"] = now
            if target is not AttemptStatus.COMPLETED:
                extra["error_code"] = event.error_code or (
                    event.state.value if event.state is ContactState.CANCELED else None
                )
            elif is_machine(attempt.answered_by):
                target = AttemptStatus.VOICEMAIL
        moved = advance(session, attempt_id=attempt.id, to=target, **extra)
    if details and not moved:
        session.connection().execute(_FILL_DURATION, {"attempt_id": attempt.id, **details})


def apply_amd(session: Session, *, attempt: ContactAttempt, event: MachineDetection) -> bool:
    """Record who answered; a machine ends the attempt as ``voicemail``. True for a machine."""
    record_sid(session, attempt=attempt, sid=event.call_sid)
    session.connection().execute(
        _RECORD_ANSWERED_BY, {"attempt_id": attempt.id, "answered_by": event.answered_by}
    )
    if not event.is_machine:
        return False
    advance(session, attempt_id=attempt.id, to=AttemptStatus.VOICEMAIL, ended_at=utcnow())
    return True
