"""Whether a pathway may be contacted right now: re-checked just before every attempt."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import (
    AttemptStatus,
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
    PathwayStatus,
    Patient,
)

# A ``claimed`` sibling is not in flight yet: it is re-checked under the same patient lock when
# its own turn comes (``dispatcher.prepare`` locks the patient row), and will see this one.
IN_FLIGHT = (
    AttemptStatus.PLACING,
    AttemptStatus.PLACED,
    AttemptStatus.IN_PROGRESS,
    AttemptStatus.IN_DOUBT,
)


class Block(StrEnum):
    """Why an attempt may not go ahead; ``final`` blocks cancel it, the others defer it."""

    PATHWAY_CLOSED = "pathway_closed"
    ALREADY_DECIDED = "already_decided"
    OPTED_OUT = "opted_out"
    DECEASED = "deceased"
    EXCLUDED = "excluded"
    NO_NUMBER = "no_number"
    IN_FLIGHT = "in_flight"
    CONTACTED_TODAY = "contacted_today"

    @property
    def final(self) -> bool:
        """True when waiting cannot help: the attempt is cancelled."""
        return self not in (Block.IN_FLIGHT, Block.CONTACTED_TODAY)


def contact_number(patient: Patient, *, sms: bool) -> str | None:
    """The number to use: a text needs a mobile; a call prefers the mobile, then the landline."""
    return patient.mobile_phone if sms else patient.mobile_phone or patient.landline_phone


def block_for_pathway(session: Session, *, pathway: Pathway, patient: Patient) -> Block | None:
    """Why this pathway must not be contacted at all any more, or None."""
    if pathway.status != PathwayStatus.OPEN:
        return Block.PATHWAY_CLOSED
    if pathway.outcome not in (Outcome.PENDING, Outcome.UNREACHABLE):
        return Block.ALREADY_DECIDED
    if patient.opted_out_at is not None:
        return Block.OPTED_OUT
    if patient.date_of_death is not None:
        return Block.DECEASED
    if session.scalar(select(exists().where(Exclusion.pathway_id == pathway.id))):
        return Block.EXCLUDED
    return None


def block_for_attempt(
    session: Session,
    *,
    attempt: ContactAttempt,
    pathway: Pathway,
    patient: Patient,
    today_starts_at: dt.datetime,
) -> Block | None:
    """Why ``attempt`` must not be placed now (eligibility, one contact at a time, once a day)."""
    block = block_for_pathway(session, pathway=pathway, patient=patient)
    if block is not None:
        return block
    if contact_number(patient, sms=attempt.channel == "sms") is None:
        return Block.NO_NUMBER
    others = select(ContactAttempt.id).where(
        ContactAttempt.patient_id == patient.id, ContactAttempt.id != attempt.id
    )
    if session.scalar(select(exists(others.where(ContactAttempt.status.in_(IN_FLIGHT))))):
        return Block.IN_FLIGHT
    contacted_today = others.where(ContactAttempt.dispatched_at >= today_starts_at)
    if session.scalar(select(exists(contacted_today))):
        return Block.CONTACTED_TODAY
    return None
