"""Letters that close the loop: to non-responders, and after a removal to the patient and the GP.

A letter is prepared as a row (what it will say, as facts taken at that moment, and its date),
with a worklist task to send it; it is printed as a PDF made with fpdf2, one per patient or all
of a run in one batch, and marked sent by the person who posted it. RTT Rule 5 stops the clock
only when a decision is communicated, so a confirmed removal always gets both of its letters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import ConflictError, NotFoundError
from app.models import (
    ClinicalDecision,
    Decision,
    Letter,
    LetterKind,
    Pathway,
    Patient,
    TaskReason,
    TaskState,
    User,
    WorklistTask,
)
from app.worklist.escalation import SERVICE_ACTOR
from app.worklist.tasks import close_task, open_task

# Why the patient was taken off, as each letter puts it (a death is told to the GP only).
PATIENT_REASONS = {
    "34": "a clinician decided that the treatment is not needed",
    "35": "you told us you no longer want this treatment",
}
GP_REASONS = {
    "34": "a clinician decided that the treatment is not needed",
    "35": "the patient told us they no longer want this treatment",
    "36": "we were told of the patient's death",
}
DECEASED_CODE = "36"
LETTER_TITLES: dict[LetterKind, str] = {
    LetterKind.NON_RESPONDER: "We could not reach you about your waiting list place",
    LetterKind.REMOVAL_CONFIRMATION: "You have been taken off the waiting list",
    LetterKind.GP_DISCHARGE: "Removal from the waiting list",
}
GP_ADDRESSEE = "The patient's registered GP practice"


def _facts(pathway: Pathway, patient: Patient) -> dict[str, str]:
    return {
        "name": f"{patient.given_name} {patient.family_name}",
        "given_name": patient.given_name,
        "nhs_number": patient.nhs_number,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "postcode": patient.postcode or "",
        "specialty": pathway.specialty_name or pathway.specialty_code,
        "pathway": pathway.pathway_id,
        "clock_start_date": pathway.clock_start_date.isoformat(),
    }


def prepare_letter(
    session: Session,
    *,
    kind: LetterKind,
    pathway: Pathway,
    decision: ClinicalDecision | None = None,
    campaign_id: int | None = None,
    now: dt.datetime | None = None,
) -> Letter:
    """A letter row with its facts and date, and the worklist task to send it (audited)."""
    now = now or utcnow()
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    facts = _facts(pathway, patient)
    if decision is not None:
        facts["rtt_status_code"] = decision.rtt_status_code or ""
        facts["decided_on"] = decision.decided_at.date().isoformat()
    letter = Letter(
        kind=kind,
        pathway_id=pathway.id,
        patient_id=patient.id,
        clinical_decision_id=decision.id if decision else None,
        addressee=GP_ADDRESSEE if kind == LetterKind.GP_DISCHARGE else facts["name"],
        facts=facts,
        created_at=now,
        letter_date=now.date(),
    )
    session.add(letter)
    session.flush()
    open_task(
        session,
        pathway=pathway,
        reason=TaskReason.LETTER,
        detail=LETTER_TITLES[kind],
        campaign_id=campaign_id,
        letter_id=letter.id,
        now=now,
    )
    return letter


def prepare_removal_letters(
    session: Session, *, now: dt.datetime | None = None, limit: int = 200
) -> int:
    """Both letters for every removal whose change-of-mind window has passed and has none yet.

    Safe to run from several workers at once: a letter is unique per removal and kind, and a
    removal another worker lettered first is skipped.
    """
    now = now or utcnow()
    lettered = select(Letter.clinical_decision_id).where(Letter.clinical_decision_id.is_not(None))
    decisions = session.scalars(
        select(ClinicalDecision)
        .where(
            ClinicalDecision.decision == Decision.REMOVE,
            ClinicalDecision.undone_at.is_(None),
            ClinicalDecision.undoable_until <= now,
            ClinicalDecision.id.not_in(lettered),
        )
        .order_by(ClinicalDecision.id)
        .limit(limit)
    ).all()
    prepared = 0
    for decision in decisions:
        pathway = session.get(Pathway, decision.pathway_id)
        assert pathway is not None
        kinds = [LetterKind.GP_DISCHARGE]
        if decision.rtt_status_code != DECEASED_CODE:
            kinds.insert(0, LetterKind.REMOVAL_CONFIRMATION)
        try:
            with session.begin_nested():
                for kind in kinds:
                    prepare_letter(session, kind=kind, pathway=pathway, decision=decision, now=now)
        except IntegrityError:
            continue  # another worker prepared them
        prepared += 1
    return prepared


def _letter_task(session: Session, letter_id: int) -> WorklistTask | None:
    return session.scalars(
        select(WorklistTask).where(
            WorklistTask.letter_id == letter_id, WorklistTask.state == TaskState.OPEN
        )
    ).first()


def withdraw_letters(
    session: Session, *, pathway_id: int, kind: LetterKind, now: dt.datetime | None = None
) -> int:
    """Unsent letters of ``kind`` the patient's later answer made wrong: their tasks close."""
    letters = session.scalars(
        select(Letter).where(
            Letter.pathway_id == pathway_id, Letter.kind == kind, Letter.sent_at.is_(None)
        )
    ).all()
    withdrawn = 0
    for letter in letters:
        task = _letter_task(session, letter.id)
        if task is not None:
            withdrawn += close_task(
                session,
                task=task,
                state=TaskState.CANCELLED,
                outcome="withdrawn",
                actor=SERVICE_ACTOR,
                now=now,
            )
    return withdrawn


def mark_letter_sent(
    session: Session, *, letter_id: int, actor: User | str, now: dt.datetime | None = None
) -> Letter:
    """Record that the letter was posted (once); its task is done."""
    now = now or utcnow()
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise NotFoundError("No such letter.")
    if letter.sent_at is not None:
        raise ConflictError(f"This letter was already marked sent on {letter.sent_at:%d %b %Y}.")
    letter.sent_at = now
    letter.sent_by = actor.username if isinstance(actor, User) else actor
    session.flush()
    task = _letter_task(session, letter.id)
    if task is not None:
        close_task(session, task=task, state=TaskState.DONE, outcome="sent", actor=actor, now=now)
    audit.record(
        session,
        actor=actor,
        action="letter.sent",
        entity_type="letter",
        entity_id=letter.id,
        pathway_id=letter.pathway_id,
        detail={"kind": letter.kind.value},
    )
    return letter


@dataclass(frozen=True)
class LetterText:
    """A letter in words, ready for a page: heading, addressee, greeting, paragraphs."""

    title: str
    addressee: str
    reference: list[str]
    greeting: str
    paragraphs: list[str]


def _date(value: str) -> str:
    return dt.date.fromisoformat(value).strftime("%-d %B %Y")


def letter_text(letter: Letter, *, organisation_name: str, callback_number: str) -> LetterText:
    """What the letter says (the same words whether printed alone or in a batch)."""
    f = letter.facts
    spaced = f"{f['nhs_number'][:3]} {f['nhs_number'][3:6]} {f['nhs_number'][6:]}"
    reference = [
        f"Patient: {f['name']}",
        f"NHS number: {spaced}",
        f"Date of birth: {_date(f['date_of_birth'])}",
        f"Waiting list: {f['specialty']} (pathway {f['pathway']})",
    ]
    if letter.kind == LetterKind.NON_RESPONDER:
        paragraphs = [
            f"We tried to telephone you about your place on the waiting list for {f['specialty']} "
            "treatment, but we could not reach you.",
            f"Please call us on {callback_number} to tell us whether you still need this "
            "treatment. You are still on the waiting list: nobody is taken off it because they "
            "did not answer.",
            "If your symptoms get much worse, contact your GP or NHS 111. In an emergency, "
            "call 999.",
        ]
        greeting = f"Dear {f['name']}"
    elif letter.kind == LetterKind.REMOVAL_CONFIRMATION:
        why = PATIENT_REASONS.get(f.get("rtt_status_code", ""), "of a clinical review")
        paragraphs = [
            f"A clinician has reviewed your answers and you have been taken off the waiting list "
            f"for {f['specialty']} treatment, because {why}. The decision was made on "
            f"{_date(f['decided_on'])}.",
            f"If this is a mistake, or you would like to be seen after all, call us on "
            f"{callback_number}. Your GP has been told and can refer you again if you need it.",
            "If your symptoms get much worse, contact your GP or NHS 111. In an emergency, "
            "call 999.",
        ]
        greeting = f"Dear {f['name']}"
    else:
        code = f.get("rtt_status_code", "")
        why = GP_REASONS.get(code, "clinical review")
        paragraphs = [
            f"Your patient has been removed from the {f['specialty']} waiting list at "
            f"{organisation_name} on {_date(f['decided_on'])} after clinical review "
            f"(RTT status {code}): {why}.",
            "The patient has been told in writing. Please refer them again if their condition "
            f"changes. Questions to the waiting list team on {callback_number}.",
        ]
        greeting = "Dear Doctor"
    return LetterText(
        title=LETTER_TITLES[letter.kind],
        addressee=letter.addressee,
        reference=reference,
        greeting=greeting,
        paragraphs=paragraphs,
    )
