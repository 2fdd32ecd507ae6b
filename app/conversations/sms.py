"""Texts: delivery receipts, and what a patient's reply does (answer, opt out, opt back in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.attempts import NOT_YET_REPLIED, QUEUED, SMS_OPEN, advance, advance_many
from app.conversations.calls import record_sid
from app.db import utcnow
from app.models import AttemptStatus, Channel, ContactAttempt, Outcome, Pathway, Patient
from app.outcomes.service import record_outcome
from app.telephony.events import ContactState, DeliveryReceipt, InboundText

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP"})
_SURROUNDING = " \t\r\n.,;:!?'\"()[]*-_~\u2018\u2019\u201c\u201d"
OPT_OUT_ACTOR = "patient-sms"


def apply_sms_status(session: Session, *, attempt: ContactAttempt, event: DeliveryReceipt) -> None:
    """A delivery receipt: record the SID; a failed text ends the attempt as ``failed``.

    Only while the patient has not replied: a receipt can arrive long after the patient's answer
    (receipts and replies are not ordered), and a conversation the patient is taking part in has
    shown the number works. Such a late failure is kept as the raw event and changes nothing.
    """
    record_sid(session, attempt=attempt, sid=event.message_sid)
    if event.state is ContactState.FAILED:
        advance(
            session,
            attempt_id=attempt.id,
            to=AttemptStatus.FAILED,
            only_from=NOT_YET_REPLIED,
            ended_at=utcnow(),
            error_code=(event.error_code or event.status_word)[:16],
        )
    elif event.state is ContactState.PLACED:
        advance(session, attempt_id=attempt.id, to=AttemptStatus.PLACED)


def keyword(text: InboundText) -> str | None:
    """``STOP``, ``START`` or None: what an inbound text asks of our contact with the sender."""
    # "Stop.", "STOP!", "'stop'": the word alone, whatever punctuation or spaces surround it.
    word = text.body.strip().strip(_SURROUNDING).strip().upper()
    if word in STOP_WORDS or text.opt_out == "stop":
        return "STOP"
    if word in START_WORDS:
        return "START"
    return None


def patients_with_number(session: Session, number: str) -> list[Patient]:
    """Every patient whose mobile or landline is ``number`` (a family can share a phone)."""
    if not number:
        return []
    return list(
        session.scalars(
            select(Patient)
            .where(or_(Patient.mobile_phone == number, Patient.landline_phone == number))
            .order_by(Patient.id)
        )
    )


def opt_out(
    session: Session,
    *,
    patients: Sequence[Patient],
    actor: str = OPT_OUT_ACTOR,
    ending_attempt_id: int | None = None,
) -> int:
    """Stop all automated contact with ``patients`` at once; returns attempts cancelled.

    Their planned and claimed attempts are cancelled (guarded: one being placed is not touched),
    and so is any text conversation still open, so that no later text is answered with the next
    question. A pathway left undecided by a cancelled attempt is recorded as ``opted_out`` (the
    answers already given stay stored), so it shows as such rather than as silence. Eligibility
    excludes the patients from future cohorts while ``opted_out_at`` is set.

    ``ending_attempt_id`` is a conversation that is itself ending with the opt-out (said on a
    call, or in a sentence by text): it completes as usual rather than being cancelled.
    """
    now = utcnow()
    ids = [p.id for p in patients]
    if not ids:
        return 0
    for patient in patients:
        if patient.opted_out_at is None:
            patient.opted_out_at = now
            audit.record(
                session,
                actor=actor,
                action="patient.opted_out",
                entity_type="patient",
                entity_id=patient.id,
            )
    queued = ContactAttempt.status.in_(QUEUED)
    open_text = and_(ContactAttempt.channel == Channel.SMS, ContactAttempt.status.in_(SMS_OPEN))
    cancelled = advance_many(
        session,
        to=AttemptStatus.CANCELLED,
        only_from=QUEUED | SMS_OPEN,
        where=(
            ContactAttempt.patient_id.in_(ids),
            or_(queued, open_text),
            ContactAttempt.id != (ending_attempt_id or 0),
        ),
        returning=(ContactAttempt.id, ContactAttempt.campaign_id, ContactAttempt.pathway_id),
        ended_at=now,
        updated_at=now,
    ).all()
    for attempt_id, campaign_id, pathway_id in cancelled:
        pathway = session.get(Pathway, pathway_id)
        if pathway is not None and pathway.outcome is Outcome.PENDING:
            record_outcome(
                session,
                pathway=pathway,
                outcome=Outcome.OPTED_OUT,
                campaign_id=campaign_id,
                contact_attempt_id=attempt_id,
                note="the patient opted out of automated contact",
                now=now,
            )
    session.flush()
    return len(cancelled)


def opt_in(session: Session, *, patients: Sequence[Patient]) -> None:
    """Reverse an opt-out: the patients may be contacted by future campaigns again."""
    for patient in patients:
        if patient.opted_out_at is not None:
            patient.opted_out_at = None
            audit.record(
                session,
                actor=OPT_OUT_ACTOR,
                action="patient.opted_in",
                entity_type="patient",
                entity_id=patient.id,
            )
    session.flush()


def open_sms_attempt(session: Session, *, patients: Sequence[Patient]) -> ContactAttempt | None:
    """The newest text conversation still waiting for these patients' reply, if any."""
    ids = [p.id for p in patients]
    if not ids:
        return None
    return session.scalars(
        select(ContactAttempt)
        .where(
            ContactAttempt.patient_id.in_(ids),
            ContactAttempt.channel == Channel.SMS,
            ContactAttempt.status.in_(SMS_OPEN | {AttemptStatus.PLACING}),
        )
        .order_by(ContactAttempt.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Courtesy:
    """Fixed texts that reveal nothing about the patient (safe for any sender)."""

    organisation_name: str
    callback_number: str

    def unknown_sender(self) -> str:
        """The reply to a text we cannot place: polite, and saying nothing about anyone."""
        return (
            f"Thank you for your message. This number cannot answer questions. "
            f"If you need help, please call {self.callback_number}."
        )

    def opted_out(self) -> str:
        """Confirmation of STOP (only when Twilio's Advanced Opt-Out has not already sent one)."""
        return (
            f"You will get no more automated messages from {self.organisation_name}. "
            f"Text START to allow them again, or call {self.callback_number}."
        )

    def opted_in(self) -> str:
        """Confirmation of START."""
        return f"Thank you. {self.organisation_name} may contact you again by automated message."
