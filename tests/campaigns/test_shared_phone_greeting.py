"""On a phone shared by several patients, the opening names whom the call is for; when someone
else answers and cannot confirm the patient's identity, the patient goes to the worklist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations.context import ConversationContext
from app.conversations.dialogue import Spoken, take_turn
from app.flows import load_registry
from app.flows.conversation import Heard
from app.models import (
    CallScript,
    ContactAttempt,
    Outcome,
    Pathway,
    TaskReason,
    TaskState,
    WorklistTask,
)
from tests.support.campaign_factories import make_attempt, make_campaign
from tests.support.factories import make_cohort, make_pathway

SHIPPED = Path(__file__).resolve().parents[2] / "call_flows"
SHARED = "+441134960123"


def _context() -> ConversationContext:
    return ConversationContext(
        registry=load_registry(SHIPPED),
        public_base_url="https://waitlist.example.nhs.uk",
        organisation_name="Example NHS",
        callback_number="0113 496 0000",
    )


def _call_for_ada(
    session: Session, *, shared: bool
) -> tuple[ConversationContext, ContactAttempt, Pathway, Pathway | None]:
    """A call planned for Ada on a landline that Bea shares (or not)."""
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort)
    context = _context()
    script = context.registry.get("standard-validation")
    row = session.get(CallScript, campaign.call_script_id)
    assert row is not None
    row.content_hash = script.content_hash
    pathway = make_pathway(
        session, cohort=cohort, given_name="Ada", mobile_phone=None, landline_phone=SHARED
    )
    other = None
    if shared:
        other = make_pathway(
            session,
            cohort=cohort,
            given_name="Bea",
            mobile_phone=None,
            landline_phone=SHARED,
            date_of_birth=dt.date(1970, 1, 1),
        )
    attempt = make_attempt(session, campaign=campaign, pathway=pathway)
    attempt.to_number, attempt.conversation = SHARED, {}
    session.flush()
    return context, attempt, pathway, other


def _opening(session: Session, *, shared: bool) -> list[str]:
    context, attempt, _, _ = _call_for_ada(session, shared=shared)
    turn = take_turn(session, attempt=attempt, context=context, channel="voice")
    assert isinstance(turn, Spoken)
    return list(turn.reply.messages)


def test_a_shared_phone_hears_whom_the_call_is_for_before_the_identity_check(
    db_session: Session,
) -> None:
    messages = _opening(db_session, shared=True)
    assert messages[0].startswith("Hello, this is an automated call from Example NHS")
    assert messages[1] == (
        "This call is for Ada Testpatient. If Ada Testpatient is not with you, please ask them "
        "to call us on 0113 496 0000."
    )
    assert "date of birth" in messages[2]


def test_a_phone_of_ones_own_hears_no_name_before_the_identity_check(
    db_session: Session,
) -> None:
    messages = _opening(db_session, shared=False)
    assert not any("Ada" in message for message in messages)


def test_someone_else_on_a_shared_phone_cannot_confirm_and_the_patient_goes_to_the_worklist(
    db_session: Session,
) -> None:
    context, attempt, ada, bea = _call_for_ada(db_session, shared=True)
    assert bea is not None
    take_turn(db_session, attempt=attempt, context=context, channel="voice")
    for _ in range(2):  # Bea, not with Ada, keys her own date of birth
        conversation = attempt.conversation or {}
        take_turn(
            db_session,
            attempt=attempt,
            context=context,
            channel="voice",
            heard=Heard(kind="dtmf", text="01011970"),
            at=(conversation["step"], int(conversation["turn"])),
        )

    assert ada.outcome == Outcome.UNVERIFIED
    assert _open_reasons(db_session, ada) == {TaskReason.UNVERIFIED}
    assert _open_reasons(db_session, bea) == set()  # nothing is recorded against Bea
    assert bea.outcome == Outcome.PENDING


def _open_reasons(session: Session, pathway: Pathway) -> set[TaskReason]:
    return set(
        session.scalars(
            select(WorklistTask.reason).where(
                WorklistTask.pathway_id == pathway.id, WorklistTask.state == TaskState.OPEN
            )
        )
    )
