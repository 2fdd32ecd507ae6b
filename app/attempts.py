"""The life of a contact attempt, in one place: its transitions, its named sets, how it moves.

Every set of states the service reasons with (terminal, in flight, unanswered...) is derived
from or checked against :data:`TRANSITIONS` here, and imported by the dispatcher, the
reconciliation, the webhook handlers and the demo; ``tests/test_attempts.py`` fails if another
module spells a status set of its own. It sits beside ``db`` rather than in a domain package
because campaigns and conversations both move attempts, and neither may import the other's
internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Update, bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from app.db import changed, utcnow
from app.models import AttemptStatus, ContactAttempt
from app.telephony.events import ContactState

A = AttemptStatus

# Who ends each final state: the provider (a webhook or a lookup), AMD (voicemail) or we
# ourselves (cancelled: an opt-out, a cancelled campaign, an attempt no longer eligible).
_ENDINGS = frozenset({A.COMPLETED, A.NO_ANSWER, A.BUSY, A.FAILED, A.VOICEMAIL, A.CANCELLED})

# state -> the states it may move to. A state with none is terminal.
TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    # queued: the dispatcher claims it, or it is cancelled before anything was sent
    A.PLANNED: frozenset({A.CLAIMED, A.CANCELLED}),
    # a worker holds it: it places it, gives it back (outside hours, rate), or it is cancelled;
    # it fails unsent when it cannot go the way its campaign chose (an SMS provider not set up)
    A.CLAIMED: frozenset({A.PLACING, A.PLANNED, A.CANCELLED, A.FAILED}),
    # the provider is being asked; a crash or a timeout leaves it in doubt
    A.PLACING: frozenset({A.PLACED, A.IN_PROGRESS, A.IN_DOUBT, A.PLANNED} | _ENDINGS),
    # reconciliation asks the provider: placed after all, or safe to try again
    A.IN_DOUBT: frozenset({A.PLACED, A.IN_PROGRESS, A.PLANNED} | _ENDINGS),
    A.PLACED: frozenset({A.IN_PROGRESS} | _ENDINGS),
    A.IN_PROGRESS: _ENDINGS,
    **{ending: frozenset() for ending in _ENDINGS},
}

TERMINAL = frozenset(state for state, onward in TRANSITIONS.items() if not onward)
# Waiting for a worker.
QUEUED = frozenset({A.PLANNED, A.CLAIMED})
# A contact that may be live at the provider (or is being handed to it): nothing else may ring
# the same patient or number meanwhile. A claimed attempt is not yet in flight: it is checked
# again under the patient's lock when its own turn comes.
IN_FLIGHT = frozenset({A.PLACING, A.IN_DOUBT, A.PLACED, A.IN_PROGRESS})
# Queued, or being handed to the provider with no word back yet: a campaign is busy with them.
NOT_YET_PLACED = QUEUED | frozenset({A.PLACING, A.IN_DOUBT})
# Not yet ended, in any way.
UNSETTLED = QUEUED | IN_FLIGHT
# With the provider and heard of since: ringing, sent or talking.
AT_PROVIDER = frozenset({A.PLACED, A.IN_PROGRESS})
# Got as far as the provider (it cost something, or may have): for the report's costs.
REACHED_PROVIDER = frozenset(TRANSITIONS) - QUEUED - {A.PLACING, A.CANCELLED}
# Webhooks move an attempt on from these; ``in_doubt`` is the reconciliation's to settle.
OPEN = frozenset({A.PLACING, A.PLACED, A.IN_PROGRESS})
# Ended without the patient being reached: the attempt policy follows these up.
UNANSWERED = frozenset({A.NO_ANSWER, A.BUSY, A.VOICEMAIL, A.FAILED})
# A text sent (or perhaps sent: a reply settles it) that can still take a reply.
SMS_OPEN = frozenset({A.IN_DOUBT, A.PLACED, A.IN_PROGRESS})
# A text conversation before the patient's first reply.
NOT_YET_REPLIED = frozenset({A.PLACING, A.PLACED})

# What each provider state moves an attempt to, for webhooks and reconciliation alike.
# ``canceled`` (withdrawn at the provider before anyone answered: we never cancel a call there
# ourselves) is ``failed``, not our own ``cancelled``: the patient was not reached, so the
# attempt policy follows it up.
ATTEMPT_STATUS: dict[ContactState, AttemptStatus] = {
    ContactState.PLACED: A.PLACED,
    ContactState.IN_PROGRESS: A.IN_PROGRESS,
    ContactState.COMPLETED: A.COMPLETED,
    ContactState.BUSY: A.BUSY,
    ContactState.NO_ANSWER: A.NO_ANSWER,
    ContactState.FAILED: A.FAILED,
    ContactState.CANCELED: A.FAILED,
}
# The final states a provider can report (reconciliation stops asking once it sees one).
PROVIDER_FINAL = frozenset(ATTEMPT_STATUS.values()) & TERMINAL


@cache
def predecessors(to: AttemptStatus, *, among: frozenset[AttemptStatus] = OPEN) -> tuple[A, ...]:
    """The states in ``among`` from which an attempt may move to ``to``, in a stable order."""
    return tuple(state for state in TRANSITIONS if state in among and to in TRANSITIONS[state])


def _starts(to: AttemptStatus, only_from: frozenset[AttemptStatus]) -> tuple[A, ...]:
    starts = predecessors(to, among=only_from)
    if not starts:
        raise ValueError(f"no state of {sorted(only_from)} may move to {to}")
    return starts


# Built once with bound parameters (building and hashing a statement per attempt cost more
# Python time than executing it in the dispatcher). With no ``values()``, the SET clause is the
# column keys of the parameters passed with each execution; none touches loaded objects.
_ONE = (ContactAttempt.id == bindparam("attempt_id"),)
_ADVANCE = update(ContactAttempt).where(
    *_ONE, ContactAttempt.status.in_(bindparam("from_statuses", expanding=True))
)
# From exactly one state (each of the dispatcher's steps): an equality, so SQLAlchemy has no
# expanding IN list to rewrite on every execution.
_ADVANCE_ONE = update(ContactAttempt).where(
    *_ONE, ContactAttempt.status == bindparam("from_status")
)
_FENCE = ContactAttempt.fence == bindparam("claimed_fence")
# A worker's write: refused once its lease was lost and the fence moved on.
_STATEMENTS = {
    (False, False): _ADVANCE,
    (False, True): _ADVANCE.where(_FENCE),
    (True, False): _ADVANCE_ONE,
    (True, True): _ADVANCE_ONE.where(_FENCE),
}


@cache
def _statement(one_start: bool, fenced: bool, guard: ColumnElement[bool] | None) -> Update:
    statement = _STATEMENTS[one_start, fenced]
    return statement if guard is None else statement.where(guard)


def advance(
    session: Session,
    *,
    attempt_id: int,
    to: AttemptStatus,
    only_from: frozenset[AttemptStatus] = OPEN,
    fence: int | None = None,
    guard: ColumnElement[bool] | None = None,
    guard_values: Mapping[str, Any] | None = None,
    **values: Any,
) -> bool:
    """Move the attempt to ``to`` if it is in a state (of ``only_from``) that may precede it;
    True if it moved. One guarded UPDATE, as Core: nothing moves backwards, a final state stays.

    ``only_from`` narrows the start states: the dispatcher's steps each start from one, and an
    event must not end a contact which has gone past them (a late delivery failure after the
    patient has replied). ``fence`` is the counter a worker took with its claim: with it, the
    move is refused once another worker (or reconciliation) has taken the attempt over. A value
    may be a SQL expression (``ContactAttempt.retry_count + 1``). ``guard`` is a further
    condition the move needs, with its parameters in ``guard_values``: built once by the caller,
    as its statement is kept per guard.
    """
    expressions = {key: value for key, value in values.items() if isinstance(value, ClauseElement)}
    starts = _starts(to, only_from)
    statement = _statement(len(starts) == 1, fence is not None, guard)
    if expressions:
        statement = statement.values(**expressions)
    parameters = {
        "attempt_id": attempt_id,
        **({"from_status": starts[0]} if len(starts) == 1 else {"from_statuses": starts}),
        "status": to,
        "updated_at": utcnow(),
        **{key: value for key, value in values.items() if key not in expressions},
    }
    if fence is not None:
        parameters["claimed_fence"] = fence
    if guard_values:
        parameters.update(guard_values)
    return changed(session.connection().execute(statement, parameters)) == 1


def advance_many(
    session: Session,
    *,
    to: AttemptStatus,
    only_from: frozenset[AttemptStatus],
    where: Sequence[ColumnElement[bool]],
    returning: Sequence[Any] = (),
    **values: Any,
) -> CursorResult[*tuple[Any, ...]]:
    """Move every attempt matching ``where`` that is in a state of ``only_from`` which may
    precede ``to``: the bulk moves (a claim, a sweep of lost leases, a cancellation). The caller
    reads the rows ``returning`` names, or counts them with ``app.db.changed``."""
    statement = (
        update(ContactAttempt)
        .where(ContactAttempt.status.in_(_starts(to, only_from)), *where)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if returning:
        statement = statement.returning(*returning)
    return session.connection().execute(statement)
