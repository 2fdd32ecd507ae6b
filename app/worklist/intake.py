"""Which outcomes hand a patient to a person, and the task each opens.

Called by ``record_outcome`` for every outcome, so no ending of a script that promises a contact
("someone will phone you back", "we will contact you another way") can pass without a task.
``FOLLOW_UP`` is the table a test walks against every ending of the shipped scripts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.models import (
    DEFINITIVE_OUTCOMES,
    LetterKind,
    Outcome,
    Pathway,
    PathwayOutcome,
    TaskReason,
    WorklistTask,
)
from app.worklist.letters import prepare_letter, withdraw_letters
from app.worklist.tasks import cancel_resolved_tasks, open_task

R = TaskReason
# The outcome of a conversation (or the attempt policy) -> the follow-up a person owes.
FOLLOW_UP: dict[Outcome, TaskReason] = {
    Outcome.UNVERIFIED: R.UNVERIFIED,
    Outcome.CALLBACK_REQUESTED: R.CALLBACK_REQUESTED,
    Outcome.UNCLEAR: R.UNCLEAR,
    Outcome.UNREACHABLE: R.UNREACHABLE,
    Outcome.OPTED_OUT: R.OPTED_OUT,
}
# A clear answer (on a later call, or taken by staff) makes these unnecessary.
RESOLVED_BY_AN_ANSWER = frozenset({R.UNVERIFIED, R.UNCLEAR, R.UNREACHABLE})
ANSWERS = frozenset(DEFINITIVE_OUTCOMES)


def reason_for(outcome: Outcome, recorded: dict[str, object]) -> TaskReason | None:
    """The task an outcome opens; a death reported on the call is its own, most urgent reason."""
    if recorded.get("reported_deceased"):
        return R.REPORTED_DECEASED
    return FOLLOW_UP.get(outcome)


def follow_up_outcome(
    session: Session,
    *,
    pathway: Pathway,
    entry: PathwayOutcome,
    now: dt.datetime,
    except_task_id: int | None = None,
) -> WorklistTask | None:
    """Open the task this outcome needs, or close the tasks a clear answer has made unnecessary."""
    if entry.outcome in ANSWERS:
        cancel_resolved_tasks(
            session,
            pathway_id=pathway.id,
            reasons=RESOLVED_BY_AN_ANSWER,
            outcome="answered_later",
            except_task_id=except_task_id,
            now=now,
        )
        withdraw_letters(session, pathway_id=pathway.id, kind=LetterKind.NON_RESPONDER, now=now)
        return None
    reason = reason_for(entry.outcome, entry.recorded or {})
    if reason is None:
        return None
    task = open_task(
        session,
        pathway=pathway,
        reason=reason,
        detail=entry.note,
        campaign_id=entry.campaign_id,
        now=now,
        recorded=entry.recorded,
    )
    if reason == R.UNREACHABLE:
        prepare_letter(
            session,
            kind=LetterKind.NON_RESPONDER,
            pathway=pathway,
            campaign_id=entry.campaign_id,
            now=now,
        )
    return task
