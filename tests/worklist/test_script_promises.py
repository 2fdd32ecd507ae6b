"""No script promises a contact the service does not create: every ending of every shipped
script is walked, and each one that hands the patient on leaves a task or a review item."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.flows import ScriptRegistry
from app.flows.schema import TRIGGERS, AskStep, EndStep
from app.models import Outcome, ReviewItem, TaskReason
from app.outcomes.service import record_outcome
from app.review.intake import needs_review
from app.worklist.intake import reason_for
from tests.support.factories import make_pathway
from tests.worklist.conftest import MONDAY_NOON, open_tasks

SCRIPTS = ("standard-validation", "standard-validation-cy")
# Words by which an ending tells the patient a person will act (English, then Welsh).
PROMISES = re.compile(
    r"contact you|phone you|in touch|member of staff|let the hospital|clinician will|"
    r"cysylltu|ffonio chi|aelod o staff|clinigydd|dweud wrth dîm|mewn cysylltiad",
    re.IGNORECASE,
)
# Of those, the ones where a person (not only a clinician reading answers) must phone or act.
PERSON_WILL_ACT = re.compile(
    r"another way|phone you|in touch|let the hospital|member of staff|"
    r"ffordd arall|ffonio chi|mewn cysylltiad|dweud wrth dîm|aelod o staff",
    re.IGNORECASE,
)


def _endings(shipped: ScriptRegistry) -> list[tuple[str, str, EndStep, dict[str, object]]]:
    found = []
    for flow_id in SCRIPTS:
        flow = shipped.get(flow_id).flow
        for name, step in flow.steps.items():
            if not isinstance(step, EndStep):
                continue
            recorded: dict[str, object] = {}
            for kind in TRIGGERS:
                trigger = getattr(flow.understanding, kind)
                if trigger is not None and trigger.next == name:
                    recorded |= trigger.record
            for other in flow.steps.values():
                if isinstance(other, AskStep):
                    for option in other.options:
                        if option.next == name:
                            recorded |= option.record
            found.append((flow_id, name, step, recorded))
    return found


def test_both_shipped_scripts_have_endings_to_walk(shipped: ScriptRegistry) -> None:
    walked = {(flow_id, name) for flow_id, name, _, _ in _endings(shipped)}
    assert ("standard-validation", "not_verified") in walked
    assert ("standard-validation-cy", "deceased") in walked
    assert len(walked) >= 16


def test_every_ending_that_promises_a_contact_leaves_a_task_or_a_review_item(
    db_session: Session, shipped: ScriptRegistry
) -> None:
    for flow_id, name, step, recorded in _endings(shipped):
        outcome = Outcome(step.end)
        promises = bool(PROMISES.search(f"{step.say or ''} {step.sms or ''}"))
        pathway = make_pathway(db_session)
        record_outcome(
            db_session, pathway=pathway, outcome=outcome, recorded=recorded, now=MONDAY_NOON
        )
        tasks = {task.reason for task in open_tasks(db_session, pathway)}
        reviewed = db_session.scalar(
            select(ReviewItem.id).where(ReviewItem.pathway_id == pathway.id)
        )
        handed_on = bool(tasks) or reviewed is not None
        where = f"{flow_id}:{name} ({outcome})"
        if promises:
            assert handed_on, f"{where} promises a contact that nothing creates"
        if outcome != Outcome.STAY:
            assert handed_on, f"{where} leaves the patient with nobody"
        # A person must phone or write (not only a clinician read the answers), said or texted.
        if PERSON_WILL_ACT.search(f"{step.say or ''} {step.sms or ''}"):
            assert tasks, f"{where} promises a person's contact but opens no worklist task"


@pytest.mark.parametrize(
    ("outcome", "recorded", "reason"),
    [
        (Outcome.CALLBACK_REQUESTED, {"reported_deceased": True}, TaskReason.REPORTED_DECEASED),
        (Outcome.UNVERIFIED, {}, TaskReason.UNVERIFIED),
        (Outcome.STAY, {}, None),
        (Outcome.LEAVE, {}, None),
    ],
)
def test_the_follow_up_table(
    outcome: Outcome, recorded: dict[str, object], reason: TaskReason | None
) -> None:
    assert reason_for(outcome, recorded) == reason
    if reason is None:
        assert outcome == Outcome.STAY or needs_review(outcome)
