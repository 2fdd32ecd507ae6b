"""A validation staff did by telephone: the approved script's questions, the same outcome path.

Staff confirm the patient's identity themselves and choose, for each question the script asks,
the option the patient gave. The answers are run through the script's own step engine (as keys,
so nothing is left to speech recognition), which reaches the outcome an automated call with the
same answers would; ``record_outcome`` then queues it for review exactly like one. The outcome
row says it was staff-entered and by whom, and the whole is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import InvalidInputError, NotFoundError
from app.flows import (
    Heard,
    LoadedScript,
    PatientFacts,
    ScriptRegistry,
    continue_conversation,
    start_conversation,
)
from app.flows.schema import AskStep
from app.flows.templates import context, render
from app.models import (
    CallScript,
    Campaign,
    Outcome,
    Pathway,
    PathwayOutcome,
    Patient,
    TaskState,
    User,
    WorklistTask,
)
from app.outcomes.service import record_outcome
from app.worklist.service import get_open_task, require_worker
from app.worklist.tasks import close_task

CHANNEL = "staff_telephone"
# Enough turns for any shipped script; a script that needs more is not one staff can run.
MAX_TURNS = 40


@dataclass(frozen=True)
class Choice:
    """One option of a question, as staff pick it."""

    key: str
    meaning: str
    words: str


@dataclass(frozen=True)
class QuestionForm:
    """One question of the script, worded as the script words it to this patient."""

    step: str
    prompt: str
    choices: list[Choice]


def questions(script: LoadedScript, facts: PatientFacts) -> list[QuestionForm]:
    """Every question of the script, in file order (the engine decides which are reached)."""
    values = context(script.flow, facts, verified=True)
    found = []
    for name, step in script.flow.steps.items():
        if isinstance(step, AskStep):
            found.append(
                QuestionForm(
                    step=name,
                    prompt=render(step.ask, values),
                    choices=[
                        Choice(option.key, option.meaning, ", ".join(option.words[:3]))
                        for option in step.options
                    ],
                )
            )
    return found


def facts_for(
    patient: Patient, pathway: Pathway, *, organisation: str, callback: str
) -> PatientFacts:
    """The patient's facts as the script's templates and identity check use them."""
    return PatientFacts(
        given_name=patient.given_name,
        date_of_birth=patient.date_of_birth,
        specialty_name=pathway.specialty_name or "hospital",
        organisation_name=organisation,
        callback_number=callback,
    )


def _identity_keys(facts: PatientFacts, kind: str) -> str:
    born: dt.date = facts.date_of_birth
    return f"{born:%Y}" if kind == "year_of_birth" else f"{born:%d%m%Y}"


def run_answers(
    script: LoadedScript, facts: PatientFacts, answers: dict[str, str]
) -> tuple[Outcome, dict[str, object], list[str]]:
    """The outcome the script reaches with these answers, what it recorded, the steps asked.

    Raises ``InvalidInputError`` naming the first question the path needs and has no answer for.
    """
    reply = start_conversation(script, facts, channel="voice")
    asked: list[str] = []
    for _ in range(MAX_TURNS):
        if reply.question is None:
            assert reply.outcome is not None
            return Outcome(reply.outcome), reply.recorded, asked
        question = reply.question
        if question.input in ("date_of_birth", "year_of_birth"):
            heard = Heard("dtmf", _identity_keys(facts, question.input))
        else:
            key = answers.get(question.step)
            if not key:
                raise InvalidInputError(
                    f"Choose the patient's answer to the question {question.step!r}.",
                    field=question.step,
                )
            asked.append(question.step)
            heard = Heard("dtmf", key)
        reply = continue_conversation(script, reply.state, heard, facts, channel="voice")
    raise InvalidInputError("These answers do not bring the script to an end.")


def record_phone_validation(
    session: Session,
    *,
    task_id: int,
    script: LoadedScript,
    facts: PatientFacts,
    answers: dict[str, str],
    identity_confirmed: bool,
    actor: User,
    now: dt.datetime | None = None,
) -> PathwayOutcome:
    """Record what the patient told staff on the phone; the task is done, the outcome reviewed."""
    require_worker(actor)
    if not identity_confirmed:
        raise InvalidInputError(
            "Confirm that you checked the patient's identity (name, date of birth and address).",
            field="identity_confirmed",
        )
    now = now or utcnow()
    task = get_open_task(session, task_id)
    pathway = session.get(Pathway, task.pathway_id)
    assert pathway is not None
    outcome, recorded, asked = run_answers(script, facts, answers)
    given = {step: answers[step] for step in asked}
    close_task(
        session,
        task=task,
        state=TaskState.DONE,
        outcome=f"validated_{outcome.value}",
        actor=actor,
        note=f"Validated by telephone by {actor.full_name}",
        now=now,
    )
    entry = record_outcome(
        session,
        pathway=pathway,
        outcome=outcome,
        campaign_id=task.campaign_id,
        recorded={
            **recorded,
            "entered_by_staff": actor.username,
            "channel": CHANNEL,
            "answers": given,
            "flow_id": script.id,
            "flow_hash": script.content_hash,
        },
        note=f"Telephone validation entered by {actor.full_name}",
        now=now,
    )
    audit.record(
        session,
        actor=actor,
        action="worklist_task.phone_validation",
        entity_type="worklist_task",
        entity_id=task.id,
        pathway_id=pathway.id,
        detail={"outcome": outcome.value, "answers": given, "pathway_outcome_id": entry.id},
    )
    return entry


DEFAULT_SCRIPT = "standard-validation"


def script_for_task(session: Session, *, task_id: int, registry: ScriptRegistry) -> LoadedScript:
    """The script whose questions staff ask: the campaign's, or the standard one."""
    task = session.get(WorklistTask, task_id)
    if task is None:
        raise NotFoundError("No such worklist task.")
    flow_id = DEFAULT_SCRIPT
    if task.campaign_id is not None:
        flow_id = (
            session.scalar(
                select(CallScript.flow_id)
                .join(Campaign, Campaign.call_script_id == CallScript.id)
                .where(Campaign.id == task.campaign_id)
            )
            or DEFAULT_SCRIPT
        )
    try:
        return registry.get(flow_id)
    except NotFoundError:
        return registry.get(DEFAULT_SCRIPT)


def facts_for_task(
    session: Session, *, task_id: int, organisation: str, callback: str
) -> PatientFacts:
    """The task's patient's facts, for the form and the engine."""
    task = session.get(WorklistTask, task_id)
    if task is None:
        raise NotFoundError("No such worklist task.")
    pathway = session.get(Pathway, task.pathway_id)
    patient = session.get(Patient, task.patient_id)
    assert pathway is not None and patient is not None
    return facts_for(patient, pathway, organisation=organisation, callback=callback)
