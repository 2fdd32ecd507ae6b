"""Whether a pathway may be contacted right now: re-checked just before every attempt."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.attempts import IN_FLIGHT
from app.db import in_batches
from app.models import (
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
    PathwayStatus,
    Patient,
    RoundStatus,
    ValidationRound,
)


class Block(StrEnum):
    """Why an attempt may not go ahead; ``final`` blocks cancel it, the others defer it."""

    PATHWAY_CLOSED = "pathway_closed"
    # Never twice in a round: the patient answered in the current one (a clinician may be
    # deciding on it); the next round opens when the pathway next falls due.
    ANSWERED_THIS_ROUND = "answered_this_round"
    # Validated (by the service or by staff, from the hospital's extract) within the interval.
    VALIDATED_RECENTLY = "validated_recently"
    OPTED_OUT = "opted_out"
    DECEASED = "deceased"
    # Someone said the patient has died; nobody is contacted about any of their pathways again
    # until staff have checked and closed it.
    REPORTED_DECEASED = "reported_deceased"
    EXCLUDED = "excluded"
    NO_NUMBER = "no_number"
    # The attempt was planned for a round that has since closed (answered, or decided): the
    # pathway's current round, if any, has attempts of its own.
    ROUND_CLOSED = "round_closed"
    IN_FLIGHT = "in_flight"
    CONTACTED_TODAY = "contacted_today"
    # Another patient's contact is in flight to the same (household) number.
    NUMBER_IN_FLIGHT = "number_in_flight"

    @property
    def final(self) -> bool:
        """True when waiting cannot help: the attempt is cancelled."""
        return self not in (Block.IN_FLIGHT, Block.CONTACTED_TODAY, Block.NUMBER_IN_FLIGHT)


def contact_number(patient: Patient, *, sms: bool) -> str | None:
    """The number to use: a text needs a mobile; a call prefers the mobile, then the landline."""
    return patient.mobile_phone if sms else patient.mobile_phone or patient.landline_phone


def pathway_block(pathway: Pathway, patient: Patient, *, new_round: bool = False) -> Block | None:
    """What the rows alone say (no query); ``new_round``: the contact would open a new round."""
    if pathway.status != PathwayStatus.OPEN:
        return Block.PATHWAY_CLOSED
    if pathway.outcome == Outcome.REPORTED_DECEASED:
        return Block.REPORTED_DECEASED
    # Unverified: nobody confirmed who answered, so the patient may still be called (another
    # time of day, a later campaign); their worklist task stays open until someone answers.
    if not new_round and pathway.outcome not in (
        Outcome.PENDING,
        Outcome.UNREACHABLE,
        Outcome.UNVERIFIED,
    ):
        return Block.ANSWERED_THIS_ROUND
    if patient.opted_out_at is not None:
        return Block.OPTED_OUT
    if patient.date_of_death is not None:
        return Block.DECEASED
    return None


def _excluded(pathway_id: Any) -> Any:
    return exists().where(Exclusion.pathway_id == pathway_id)


def _death_reported(patient_id: Any) -> Any:
    """A death was reported on any of the patient's pathways."""
    return exists().where(
        Pathway.patient_id == patient_id, Pathway.outcome == Outcome.REPORTED_DECEASED
    )


_PATHWAY_FACTS = select(
    _excluded(bindparam("pathway_id")), _death_reported(bindparam("patient_id"))
)


def _facts_block(*, excluded: bool, death_reported: bool) -> Block | None:
    """What the other rows say: a reported death outranks an exclusion."""
    if death_reported:
        return Block.REPORTED_DECEASED
    return Block.EXCLUDED if excluded else None


def block_for_pathway(
    session: Session, *, pathway: Pathway, patient: Patient, new_round: bool = False
) -> Block | None:
    """Why this pathway must not be contacted (in this round, or a new one), or None. A death
    reported on any of the patient's pathways stops every round of every one."""
    block = pathway_block(pathway, patient, new_round=new_round)
    if block is not None:
        return block
    excluded, death_reported = session.execute(
        _PATHWAY_FACTS, {"pathway_id": pathway.id, "patient_id": patient.id}
    ).one()
    return _facts_block(excluded=excluded, death_reported=death_reported)


@dataclass(frozen=True)
class PathwayFacts:
    """What other rows say about a batch of pathways, read in a few set queries: planning a
    campaign or a day's schedule asks for thousands at once, and one query per pathway was most
    of its cost."""

    excluded: frozenset[int]  # pathway ids an exclusion rule or flag holds back
    death_reported: frozenset[int]  # patient ids with a death reported on any pathway

    def block(self, pathway: Pathway, patient: Patient, *, new_round: bool) -> Block | None:
        """``block_for_pathway`` for a pathway of the batch, with no query."""
        return pathway_block(pathway, patient, new_round=new_round) or _facts_block(
            excluded=pathway.id in self.excluded,
            death_reported=patient.id in self.death_reported,
        )


def pathway_facts(session: Session, rows: Sequence[tuple[Pathway, Patient]]) -> PathwayFacts:
    """The facts ``block_for_pathway`` reads, for every (pathway, patient) of ``rows``."""
    pathway_ids = [pathway.id for pathway, _ in rows]
    patient_ids = sorted({patient.id for _, patient in rows})
    excluded: set[int] = set()
    death_reported: set[int] = set()
    for chunk in in_batches(pathway_ids):
        excluded.update(
            session.scalars(
                select(Exclusion.pathway_id).where(Exclusion.pathway_id.in_(chunk)).distinct()
            )
        )
    for chunk in in_batches(patient_ids):
        death_reported.update(
            session.scalars(
                select(Pathway.patient_id)
                .where(Pathway.patient_id.in_(chunk), Pathway.outcome == Outcome.REPORTED_DECEASED)
                .distinct()
            )
        )
    return PathwayFacts(excluded=frozenset(excluded), death_reported=frozenset(death_reported))


# The placing check's other attempts, aliased: the facts also guard an UPDATE of
# contact_attempt, and an unaliased subquery would be correlated with the row being updated.
_OTHER = aliased(ContactAttempt, name="other_attempt")


def _another_attempt(condition: Any) -> Any:
    """The patient has another attempt meeting ``condition``."""
    return exists().where(
        _OTHER.patient_id == bindparam("fact_patient_id"),
        _OTHER.id != bindparam("attempt_id"),
        condition,
    )


# The six facts the placing check needs from other rows (``block_for_attempt`` ranks them).
# Their bound names stay clear of contact_attempt's columns, so the same conditions can guard
# the move to placing (an UPDATE takes a parameter named after a column as a value to set).
_ATTEMPT_FACT_CONDITIONS = (
    _excluded(bindparam("fact_pathway_id")),
    _death_reported(bindparam("fact_patient_id")),
    # An attempt without a round (planned before rounds existed) matches no row here.
    exists().where(
        ValidationRound.id == bindparam("fact_round_id"),
        ValidationRound.status != RoundStatus.OPEN,
    ),
    _another_attempt(_OTHER.status.in_(IN_FLIGHT)),
    _another_attempt(_OTHER.dispatched_at >= bindparam("today_starts_at")),
    # Numbers are stored in E.164 (the import normalises them), so equal strings are one phone.
    exists().where(
        _OTHER.to_number == bindparam("fact_number"),
        _OTHER.id != bindparam("attempt_id"),
        _OTHER.status.in_(IN_FLIGHT),
    ),
)
# All six in one round trip (built once, so SQLAlchemy caches its compiled form).
ATTEMPT_FACTS = select(*_ATTEMPT_FACT_CONDITIONS)
# None of them holds: the condition under which the dispatcher moves an attempt to placing in
# the same statement that checks it (``attempt_fact_values`` gives its parameters).
NO_ATTEMPT_FACT = ~or_(*_ATTEMPT_FACT_CONDITIONS)


def attempt_fact_values(
    *,
    attempt: ContactAttempt,
    pathway: Pathway,
    patient: Patient,
    today_starts_at: dt.datetime,
) -> dict[str, Any]:
    """The parameters of ``ATTEMPT_FACTS`` and ``NO_ATTEMPT_FACT`` for one attempt."""
    return {
        "fact_pathway_id": pathway.id,
        "fact_patient_id": patient.id,
        "fact_round_id": attempt.validation_round_id,
        "attempt_id": attempt.id,
        "today_starts_at": today_starts_at,
        "fact_number": contact_number(patient, sms=attempt.channel == "sms") or "",
    }


def block_for_attempt(
    session: Session,
    *,
    attempt: ContactAttempt,
    pathway: Pathway,
    patient: Patient,
    today_starts_at: dt.datetime,
) -> Block | None:
    """Why ``attempt`` must not be placed now (eligibility, one contact at a time, once a day)."""
    block = pathway_block(pathway, patient)
    if block is not None:
        return block
    number = contact_number(patient, sms=attempt.channel == "sms")
    facts = session.execute(
        ATTEMPT_FACTS,
        attempt_fact_values(
            attempt=attempt, pathway=pathway, patient=patient, today_starts_at=today_starts_at
        ),
    ).one()
    excluded, death_reported, round_closed, in_flight, contacted_today, number_in_flight = facts
    if death_reported:
        return Block.REPORTED_DECEASED
    if excluded:
        return Block.EXCLUDED
    if round_closed:
        return Block.ROUND_CLOSED
    if number is None:
        return Block.NO_NUMBER
    if in_flight:
        return Block.IN_FLIGHT
    if contacted_today:
        return Block.CONTACTED_TODAY
    if number_in_flight:
        return Block.NUMBER_IN_FLIGHT
    return None


def lock_number(session: Session, *, patient: Patient, sms: bool) -> None:
    """Serialise the placing check per number until commit, as the patient row lock does.

    Two patients sharing a household phone lock different patient rows, so without this two
    workers could each see no contact in flight to the number and ring it together. PostgreSQL
    only: SQLite's write transactions are serial already. Each check takes one number lock, after
    its patient row lock, so the two kinds of lock cannot wait on each other in a cycle.
    """
    number = contact_number(patient, sms=sms)
    if number is None or session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(number.encode(), digest_size=8, person=b"waitlist-number").digest()
    session.connection().execute(_NUMBER_LOCK, {"key": int.from_bytes(digest, "big", signed=True)})


# Built once with a bound key (building and compiling it per attempt cost more than running it).
_NUMBER_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))
