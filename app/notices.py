"""The life of a notice (a pre-call text, a reminder), in one place: its transitions and moves.

Like ``app.attempts`` for contact attempts: every status a notice takes is set here, by one
guarded UPDATE, and ``tests/test_notices.py`` fails if another module writes one. A notice is
sent at most once: one left ``sending`` by a crash becomes ``in_doubt`` and is never sent again
(a duplicate text is worse than a missing courtesy; the worklist's unreachable task is the net).
It sits beside ``db`` because campaigns send notices and conversations record their receipts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.orm import Session

from app.db import changed, utcnow
from app.models import ContactNotice, NoticeStatus
from app.telephony.events import ContactState

N = NoticeStatus

# state -> the states it may move to. A state with none is terminal.
TRANSITIONS: dict[NoticeStatus, frozenset[NoticeStatus]] = {
    # waiting for its time: a worker claims it, or it is no longer wanted
    N.PLANNED: frozenset({N.SENDING, N.CANCELLED}),
    # a worker holds it: re-checked under the claim (cancelled, or given back outside the
    # windows), then the provider is asked; a crash or a timeout leaves it in doubt
    N.SENDING: frozenset({N.SENT, N.FAILED, N.CANCELLED, N.PLANNED, N.IN_DOUBT}),
    # a delivery receipt may still say it never arrived
    N.SENT: frozenset({N.FAILED}),
    # never sent again; a receipt may settle it either way
    N.IN_DOUBT: frozenset({N.SENT, N.FAILED}),
    N.FAILED: frozenset(),
    N.CANCELLED: frozenset(),
}

TERMINAL = frozenset(state for state, onward in TRANSITIONS.items() if not onward)
# Not yet settled: the reminders' reply time cannot be counted while one of these waits.
UNSETTLED = frozenset({N.PLANNED, N.SENDING})
# Reached the provider, or may have (for the report and the reply time).
WENT_OUT = frozenset({N.SENT, N.IN_DOUBT})


def _starts(to: NoticeStatus, only_from: frozenset[NoticeStatus]) -> list[NoticeStatus]:
    starts = [state for state in TRANSITIONS if state in only_from and to in TRANSITIONS[state]]
    if not starts:
        raise ValueError(f"no state of {sorted(only_from)} may move to {to}")
    return starts


def advance_notices(
    session: Session,
    *,
    to: NoticeStatus,
    only_from: frozenset[NoticeStatus],
    where: Sequence[ColumnElement[bool]],
    returning: Sequence[Any] = (),
    **values: Any,
) -> CursorResult[*tuple[Any, ...]]:
    """Move every notice matching ``where`` that is in a state of ``only_from`` which may
    precede ``to``: one guarded UPDATE. The caller reads ``returning`` or counts the rows."""
    statement = (
        update(ContactNotice)
        .where(ContactNotice.status.in_(_starts(to, only_from)), *where)
        .values(status=to, updated_at=values.pop("updated_at", utcnow()), **values)
        .execution_options(synchronize_session=False)
    )
    if returning:
        statement = statement.returning(*returning)
    return session.connection().execute(statement)


def advance_notice(
    session: Session,
    *,
    notice_id: int,
    to: NoticeStatus,
    only_from: frozenset[NoticeStatus],
    **values: Any,
) -> bool:
    """Move one notice (see :func:`advance_notices`); True if it moved."""
    result = advance_notices(
        session, to=to, only_from=only_from, where=(ContactNotice.id == notice_id,), **values
    )
    return changed(result) == 1


def extend_lease(session: Session, *, notice_id: int, worker_id: str, until: dt.datetime) -> bool:
    """Renew a worker's claim on a notice it is sending; False if the claim was lost."""
    statement = (
        update(ContactNotice)
        .where(
            ContactNotice.id == notice_id,
            ContactNotice.status == N.SENDING,
            ContactNotice.claimed_by == worker_id,
        )
        .values(lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return changed(session.connection().execute(statement)) == 1


def notice_by_token(session: Session, token: str) -> ContactNotice | None:
    """The notice whose receipts carry ``token`` (tokens are never guessable nor reused)."""
    if not token or len(token) > 64:
        return None
    return session.scalars(select(ContactNotice).where(ContactNotice.token == token)).first()


def apply_receipt(
    session: Session,
    *,
    notice: ContactNotice,
    state: ContactState | None,
    sid: str,
    error_code: str | None,
) -> None:
    """A delivery receipt for a notice: a failure is recorded; word that it went settles one
    in doubt as sent. Nothing else moves, and nothing is ever sent again."""
    if state is ContactState.FAILED:
        advance_notices(
            session,
            to=N.FAILED,
            only_from=frozenset({N.SENT, N.IN_DOUBT}),
            where=(ContactNotice.id == notice.id,),
            error_code=(error_code or "not_delivered")[:16],
        )
    elif state is ContactState.PLACED:
        advance_notices(
            session,
            to=N.SENT,
            only_from=frozenset({N.IN_DOUBT}),
            where=(ContactNotice.id == notice.id,),
            provider_sid=sid[:64] or None,
            sent_at=utcnow(),
        )
