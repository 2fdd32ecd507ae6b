"""Whether a pathway may be contacted right now: re-checked just before every attempt."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, exists, select
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


def _pathway_block(pathway: Pathway, patient: Patient) -> Block | None:
    """What the rows alone say (no query)."""
    if pathway.status != PathwayStatus.OPEN:
        return Block.PATHWAY_CLOSED
    if pathway.outcome not in (Outcome.PENDING, Outcome.UNREACHABLE):
        return Block.ALREADY_DECIDED
    if patient.opted_out_at is not None:
        return Block.OPTED_OUT
    if patient.date_of_death is not None:
        return Block.DECEASED
    return None


def _excluded(pathway_id: Any) -> Any:
    return exists().where(Exclusion.pathway_id == pathway_id)


_IS_EXCLUDED = select(_excluded(bindparam("pathway_id")))


def block_for_pathway(session: Session, *, pathway: Pathway, patient: Patient) -> Block | None:
    """Why this pathway must not be contacted at all any more, or None."""
    block = _pathway_block(pathway, patient)
    if block is None and session.scalar(_IS_EXCLUDED, {"pathway_id": pathway.id}):
        return Block.EXCLUDED
    return block


def _another_attempt(condition: Any) -> Any:
    """The patient has another attempt meeting ``condition``."""
    return exists().where(
        ContactAttempt.patient_id == bindparam("patient_id"),
        ContactAttempt.id != bindparam("attempt_id"),
        condition,
    )


# The three facts the placing check needs from other rows, in one round trip (the statement is
# built once, so SQLAlchemy caches its compiled form).
_ATTEMPT_FACTS = select(
    _excluded(bindparam("pathway_id")),
    _another_attempt(ContactAttempt.status.in_(IN_FLIGHT)),
    _another_attempt(ContactAttempt.dispatched_at >= bindparam("today_starts_at")),
)


def block_for_attempt(
    session: Session,
    *,
    attempt: ContactAttempt,
    pathway: Pathway,
    patient: Patient,
    today_starts_at: dt.datetime,
) -> Block | None:
    """Why ``attempt`` must not be placed now (eligibility, one contact at a time, once a day)."""
    block = _pathway_block(pathway, patient)
    if block is not None:
        return block
    excluded, in_flight, contacted_today = session.execute(
        _ATTEMPT_FACTS,
        {
            "pathway_id": pathway.id,
            "patient_id": patient.id,
            "attempt_id": attempt.id,
            "today_starts_at": today_starts_at,
        },
    ).one()
    if excluded:
        return Block.EXCLUDED
    if contact_number(patient, sms=attempt.channel == "sms") is None:
        return Block.NO_NUMBER
    if in_flight:
        return Block.IN_FLIGHT
    if contacted_today:
        return Block.CONTACTED_TODAY
    return None
