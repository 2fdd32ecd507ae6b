"""Call status and answering-machine callbacks: move the attempt forward, never backwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from app.db import changed, utcnow
from app.models import AttemptStatus, ContactAttempt
from app.telephony.events import CallProgress, ContactState, MachineDetection, is_machine

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
# What each provider state moves an attempt to. ``canceled`` (withdrawn at the provider before
# anyone answered: we never cancel a call there ourselves) is ``failed``, not our own
# ``cancelled``: the patient was not reached, so the attempt policy follows it up. Reconciliation
# (``campaigns/scheduled.py``) reads the same table, so a webhook and a provider lookup of the same
# call lead to the same next step.
ATTEMPT_STATUS: dict[ContactState, AttemptStatus] = {
    ContactState.PLACED: AttemptStatus.PLACED,
    ContactState.IN_PROGRESS: AttemptStatus.IN_PROGRESS,
    ContactState.COMPLETED: AttemptStatus.COMPLETED,
    ContactState.BUSY: AttemptStatus.BUSY,
    ContactState.NO_ANSWER: AttemptStatus.NO_ANSWER,
    ContactState.FAILED: AttemptStatus.FAILED,
    ContactState.CANCELED: AttemptStatus.FAILED,
}

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
    return changed(result) == 1


def record_sid(session: Session, *, attempt_id: int, sid: str) -> None:
    """Remember the provider's SID if the dispatcher has not recorded it yet (webhooks race it)."""
    if not sid:
        return
    session.connection().execute(_RECORD_SID, {"attempt_id": attempt_id, "provider_sid": sid})


def apply_call_status(session: Session, *, attempt: ContactAttempt, event: CallProgress) -> None:
    """Apply one call-progress callback (in any order, any number of times).

    One guarded UPDATE in the usual case: the new state and the duration (and, the first time,
    the SID if the dispatcher has not recorded it yet). A callback that cannot move the attempt
    (it arrived late, after a final state) erases nothing: it may only fill a missing duration.
    """
    details: dict[str, Any] = {}
    if event.call_sid and attempt.provider_sid is None:
        record_sid(session, attempt_id=attempt.id, sid=event.call_sid)
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
    record_sid(session, attempt_id=attempt.id, sid=event.call_sid)
    session.connection().execute(
        _RECORD_ANSWERED_BY, {"attempt_id": attempt.id, "answered_by": event.answered_by}
    )
    if not event.is_machine:
        return False
    advance(session, attempt_id=attempt.id, to=AttemptStatus.VOICEMAIL, ended_at=utcnow())
    return True
