"""Running an approved script over a call or a text thread: turns, answers and the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Executable, Integer, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.attempts import advance
from app.conversations.context import ConversationContext
from app.conversations.sms import Courtesy, opt_out, patients_with_number
from app.db import utcnow
from app.errors import NotFoundError
from app.flows import (
    Heard,
    LoadedScript,
    PatientFacts,
    Reply,
    continue_conversation,
    render_sms,
    start_conversation,
    voicemail_message,
)
from app.models import (
    Answer,
    AttemptStatus,
    CallScript,
    Campaign,
    ContactAttempt,
    Outcome,
    Pathway,
    Patient,
)
from app.outcomes.service import record_outcome
from app.telephony.events import is_machine

log = logging.getLogger(__name__)

Channel = Literal["voice", "sms"]

# Statements built once: on the webhook path, building a statement and its cache key costs
# more than running it.
# Only the patient's and script's columns a turn reads: not the script's stored text.
_SUBJECT = (
    select(
        Pathway,
        Patient.given_name,
        Patient.family_name,
        Patient.date_of_birth,
        Patient.opted_out_at,
        CallScript.flow_id,
        CallScript.content_hash,
    )
    .join(Patient, Patient.id == Pathway.patient_id)
    .join(Campaign, Campaign.id == bindparam("campaign_id"))
    # The attempt's own script (the patient's language) where it has one, else the campaign's.
    .join(
        CallScript,
        CallScript.id
        == func.coalesce(bindparam("call_script_id", type_=Integer), Campaign.call_script_id),
    )
    .where(Pathway.id == bindparam("pathway_id"))
)
# A duplicate (same attempt, step, turn) changes nothing.
_INSERT_ANSWER: dict[str, Executable] = {
    "postgresql": postgresql.insert(Answer).on_conflict_do_nothing(
        index_elements=["contact_attempt_id", "step", "turn"]
    ),
    "sqlite": sqlite.insert(Answer).on_conflict_do_nothing(
        index_elements=["contact_attempt_id", "step", "turn"]
    ),
}


@dataclass(frozen=True)
class Subject:
    """Everything one turn needs about the attempt: its script and the patient's facts."""

    attempt: ContactAttempt
    pathway: Pathway
    script: LoadedScript
    facts: PatientFacts
    opted_out: bool = False


@dataclass(frozen=True)
class CannotRun:
    """The campaign's script cannot run (missing, or changed since the campaign started)."""

    attempt: ContactAttempt
    reason: str


def load_subject(
    session: Session, *, attempt: ContactAttempt, context: ConversationContext
) -> Subject | CannotRun:
    """The attempt's pathway, patient and script, in one query (scripts come from memory).

    The script must be the exact content the campaign was started with; if the file on disk
    has changed since, the subject cannot run and nothing of the script is said.
    """
    row = session.execute(
        _SUBJECT,
        {
            "campaign_id": attempt.campaign_id,
            "pathway_id": attempt.pathway_id,
            "call_script_id": attempt.call_script_id,
        },
    ).one()
    pathway, given_name, family_name, date_of_birth, opted_out_at, flow_id, content_hash = row
    try:
        script = context.registry.get(flow_id)
    except NotFoundError:
        log.warning("script %s is not loaded", flow_id)
        return CannotRun(attempt, "script missing")
    if script.content_hash != content_hash:
        log.warning("script %s changed since the campaign started", flow_id)
        return CannotRun(attempt, "script changed")
    facts = PatientFacts(
        given_name=given_name,
        date_of_birth=date_of_birth,
        specialty_name=pathway.specialty_name or "hospital",
        organisation_name=context.organisation_name,
        callback_number=context.callback_number,
        called_for=_called_for(session, attempt, f"{given_name} {family_name}"),
    )
    return Subject(
        attempt=attempt,
        pathway=pathway,
        script=script,
        facts=facts,
        opted_out=opted_out_at is not None,
    )


@dataclass(frozen=True)
class Spoken:
    """The script's next words, to be rendered for the channel with the script."""

    reply: Reply
    script: LoadedScript


@dataclass(frozen=True)
class Replay:
    """Say again exactly what was last said (a retried, replayed or out-of-turn request)."""


@dataclass(frozen=True)
class MachineOnly:
    """Nothing of the script may be said: only who is calling and the number to call back."""

    lines: list[str]


Turn = Spoken | Replay | MachineOnly


def take_turn(
    session: Session,
    *,
    attempt: ContactAttempt,
    context: ConversationContext,
    channel: Channel,
    heard: Heard | None = None,
    fresh: bool = True,
    at: tuple[str, int] | None = None,
) -> Turn:
    """One turn of the conversation, in one pass: load the subject, then say what comes next.

    ``heard`` is what the patient said (None: the call has just been answered); ``fresh`` is
    False for a duplicate of a request already answered, which is replayed; ``at`` is the
    question (step, turn) a spoken answer is for, replayed if it is not the question asked.
    The answers and, at the end, the outcome are stored; a text conversation at its end
    completes its attempt.
    """
    subject = load_subject(session, attempt=attempt, context=context)
    if isinstance(subject, CannotRun):
        return MachineOnly(_nothing_of_the_script(channel, context))
    if channel == "sms":
        assert heard is not None, "a text turn answers what the patient wrote"
        advance(session, attempt_id=attempt.id, to=AttemptStatus.IN_PROGRESS)
        reply = _answer(session, subject=subject, channel=channel, heard=heard)
        if reply.ended:
            advance(session, attempt_id=attempt.id, to=AttemptStatus.COMPLETED, ended_at=utcnow())
        return Spoken(reply, subject.script)
    # A machine, or a patient who opted out (or whose attempt was cancelled) while the call was
    # ringing: only who called and the number to call back.
    answered = heard is None
    if is_machine(attempt.answered_by) or (
        answered and (subject.opted_out or attempt.status is AttemptStatus.CANCELLED)
    ):
        return MachineOnly([voicemail_message(subject.script, subject.facts)])
    if heard is None:
        if not fresh and attempt.conversation:
            return Replay()
        return Spoken(_begin(session, subject=subject, channel=channel), subject.script)
    conversation = attempt.conversation or {}
    if not fresh or (conversation.get("step"), int(conversation.get("turn", -1))) != at:
        return Replay()
    # The answer to the question asked, even if the call's final status overtook it (Twilio
    # does not order callbacks): what the patient said is recorded whatever the attempt's state.
    return Spoken(_answer(session, subject=subject, channel=channel, heard=heard), subject.script)


def _called_for(session: Session, attempt: ContactAttempt, name: str) -> str | None:
    """The patient's name when their number is shared with another patient (a household
    phone), so whoever answers knows whom the call is for; asked only as a conversation opens."""
    if "state" in (attempt.conversation or {}) or not attempt.to_number:
        return None
    others = [
        p for p in patients_with_number(session, attempt.to_number) if p.id != attempt.patient_id
    ]
    return name if others else None


def _nothing_of_the_script(channel: Channel, context: ConversationContext) -> list[str]:
    """What is said when the script cannot run: nothing about the patient's care."""
    if channel == "sms":
        return [Courtesy(context.organisation_name, context.callback_number).unknown_sender()]
    return [
        f"Hello, this is an automated call from {context.organisation_name}. "
        f"Please call us back on {context.callback_number}. Thank you."
    ]


def _begin(session: Session, *, subject: Subject, channel: Channel) -> Reply:
    """Start the script for this attempt and keep its state on the attempt."""
    reply = start_conversation(subject.script, subject.facts, channel=channel)
    _keep(session, subject=subject, reply=reply, turn=0)
    return reply


def _answer(session: Session, *, subject: Subject, channel: Channel, heard: Heard) -> Reply:
    """Give the script what the patient said; store the answers and, at the end, the outcome."""
    conversation = subject.attempt.conversation or {}
    if "state" not in conversation:
        _begin(session, subject=subject, channel=channel)
        conversation = subject.attempt.conversation
    reply = continue_conversation(
        subject.script,
        dict(conversation.get("state", {})),
        heard,
        subject.facts,
        channel=channel,
    )
    _keep(session, subject=subject, reply=reply, turn=int(conversation.get("turn", 0)) + 1)
    return reply


def _keep(session: Session, *, subject: Subject, reply: Reply, turn: int) -> None:
    attempt = subject.attempt
    script = subject.script
    for item in reply.answers:
        _store_answer(session, subject=subject, answer=item)
    if reply.outcome == Outcome.OPTED_OUT:
        # "Stop calling me", "please stop texting me": honoured for this number from now on,
        # as a STOP text is (every patient with the number, planned contacts cancelled).
        _opt_out_number(session, subject=subject)
    if reply.outcome is not None:
        record_outcome(
            session,
            pathway=subject.pathway,
            outcome=Outcome(reply.outcome),
            campaign_id=attempt.campaign_id,
            contact_attempt_id=attempt.id,
            recorded=dict(reply.state.get("recorded", {})),
        )
    # Set after the outcome's flushes, so that none of them writes it: the voice path adds the
    # TwiML next and one UPDATE carries both (a text's turn is written at the next flush). All of it
    # is one transaction, so the order changes nothing a crash could see.
    attempt.conversation = {
        "state": reply.state,
        "turn": turn,
        "step": reply.question.step if reply.question else None,
        "outcome": reply.outcome,
        "flow_id": script.id,
        "flow_version": script.version,
        "flow_hash": script.content_hash,
    }


def _opt_out_number(session: Session, *, subject: Subject) -> None:
    attempt = subject.attempt
    numbered = patients_with_number(session, attempt.to_number or "")
    patients = {patient.id: patient for patient in numbered}
    patient = session.get(Patient, attempt.patient_id)
    if patient is not None:
        patients[patient.id] = patient
    opt_out(
        session,
        patients=list(patients.values()),
        actor=f"patient-{attempt.channel.value}",
        ending_attempt_id=attempt.id,
    )


def _store_answer(session: Session, *, subject: Subject, answer: Any) -> None:
    """One answer row; a duplicate (same attempt, step, turn) changes nothing."""
    script = subject.script
    connection = session.connection()
    connection.execute(
        _INSERT_ANSWER[connection.dialect.name],
        {
            "contact_attempt_id": subject.attempt.id,
            "pathway_id": subject.pathway.id,
            "step": answer.step,
            "turn": answer.turn,
            "prompt": answer.prompt,
            "input_kind": answer.input_kind,
            "raw_input": answer.raw_input,
            "confidence": answer.confidence,
            "interpretation": answer.interpretation,
            "recorded": answer.recorded,
            "flow_id": script.id,
            "flow_version": script.version,
            "flow_hash": script.content_hash,
            "answered_at": utcnow(),
        },
    )


def start_sms_conversation(
    session: Session, *, attempt: ContactAttempt, context: ConversationContext
) -> str | None:
    """The opening text of an SMS attempt (for the dispatcher), with the state kept; None if
    the campaign's script cannot run (changed or missing)."""
    subject = load_subject(session, attempt=attempt, context=context)
    if isinstance(subject, CannotRun):
        return None
    reply = _begin(session, subject=subject, channel="sms")
    return render_sms(reply, subject.script)
