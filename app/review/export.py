"""The validation CSV back to the PAS (``docs/cohort-csv.md``): one row per closed round, streamed
in batches and formula-safe."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import IO

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app import audit
from app.attempts import REACHED_PROVIDER
from app.csvcells import SafeWriter
from app.db import utcnow
from app.errors import PermissionDeniedError
from app.models import (
    ClinicalDecision,
    ContactAttempt,
    Decision,
    Pathway,
    Patient,
    Role,
    RoundStatus,
    User,
    ValidationRound,
)

COLUMNS = (
    "provider_code",
    "pathway_id",
    "nhs_number",
    "patient_answer",
    "clinical_decision",
    "rtt_status_code",
    "decided_by",
    "decided_at",
    "note",
    "new_priority",
    "round",
    "due_date",
    "validated_date",
    "willing_to_travel",
    "contacts",
)
EXPORT_ROLES = frozenset({Role.COORDINATOR, Role.CLINICIAN})
BATCH_SIZE = 1000


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    rows: int
    since: dt.datetime | None
    exported_at: dt.datetime

    def as_dict(self) -> dict[str, object]:
        """The report as the CLI's JSON document."""
        return {
            "rows": self.rows,
            "since": self.since.isoformat() if self.since else None,
            "exported_at": self.exported_at.isoformat(),
        }


def can_export(user: User) -> bool:
    """Coordinators export outcomes to the PAS; clinicians may too."""
    return user.is_active and user.role in EXPORT_ROLES


def count_waiting_for_export(session: Session) -> int:
    """Decisions the next export would write (not undone, not exported yet)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ClinicalDecision)
            .where(ClinicalDecision.undone_at.is_(None), ClinicalDecision.exported_at.is_(None))
        )
        or 0
    )


def export_outcomes(
    session: Session,
    *,
    out: IO[str],
    actor: User | str,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ExportReport:
    """Write every closed validation round not yet exported (or all closed since ``since``).

    A row per round: stays with their validation date, unreachable patients, the clinical
    decision where there is one, and the mutual-aid answer. A removal is written only once its
    change-of-mind window has closed, so the PAS never removes a patient who is then restored.
    Reads in keyset batches so memory stays bounded.
    """
    if isinstance(actor, User) and not can_export(actor):
        raise PermissionDeniedError("Only coordinators and clinicians can export outcomes.")
    now = now or utcnow()
    decider = aliased(User)
    writer = SafeWriter(out)  # formula-like cells get a leading "'" (docs/review.md)
    writer.writerow(COLUMNS)
    contacts = (
        select(func.count())
        .where(
            ContactAttempt.validation_round_id == ValidationRound.id,
            ContactAttempt.status.in_(REACHED_PROVIDER),
        )
        .scalar_subquery()
    )
    query = (
        select(
            ValidationRound.id,
            ValidationRound.clinical_decision_id,
            Pathway.provider_code,
            Pathway.pathway_id,
            Patient.nhs_number,
            ValidationRound.outcome,
            ValidationRound.decision,
            ClinicalDecision.rtt_status_code,
            decider.username,
            ClinicalDecision.decided_at,
            ClinicalDecision.note,
            ClinicalDecision.new_priority,
            ValidationRound.number,
            ValidationRound.due_date,
            ValidationRound.validated_date,
            ValidationRound.willing_to_travel,
            contacts.label("contacts"),
        )
        .join(Pathway, Pathway.id == ValidationRound.pathway_id)
        .join(Patient, Patient.id == Pathway.patient_id)
        .outerjoin(ClinicalDecision, ClinicalDecision.id == ValidationRound.clinical_decision_id)
        .outerjoin(decider, decider.id == ClinicalDecision.decided_by_id)
        .where(
            ValidationRound.status == RoundStatus.CLOSED,
            or_(
                ValidationRound.decision.is_(None),
                ValidationRound.decision != Decision.REMOVE,
                ClinicalDecision.undoable_until <= now,
            ),
        )
        .order_by(ValidationRound.id)
        .limit(BATCH_SIZE)
    )
    if since is not None:
        query = query.where(ValidationRound.closed_at >= since)
    else:
        query = query.where(ValidationRound.exported_at.is_(None))
    last_id, total = 0, 0
    while True:
        batch = session.execute(query.where(ValidationRound.id > last_id)).all()
        if not batch:
            break
        for row in batch:
            travel = {True: "yes", False: "no"}.get(row.willing_to_travel, "")
            writer.writerow(
                (
                    row.provider_code,
                    row.pathway_id,
                    row.nhs_number,
                    row.outcome.value,
                    row.decision.value if row.decision else "",
                    row.rtt_status_code or "",
                    row.username or "",
                    row.decided_at.isoformat(timespec="seconds") if row.decided_at else "",
                    row.note or "",
                    row.new_priority or "",
                    row.number,
                    row.due_date.isoformat() if row.due_date else "",
                    row.validated_date.isoformat() if row.validated_date else "",
                    travel,
                    row.contacts,
                )
            )
        ids = [row.id for row in batch]
        session.execute(
            update(ValidationRound)
            .where(ValidationRound.id.in_(ids))
            .values(exported_at=now)
            .execution_options(synchronize_session=False)
        )
        decisions = [row.clinical_decision_id for row in batch if row.clinical_decision_id]
        if decisions:
            session.execute(
                update(ClinicalDecision)
                .where(ClinicalDecision.id.in_(decisions))
                .values(exported_at=now)
                .execution_options(synchronize_session=False)
            )
        last_id, total = ids[-1], total + len(ids)
    audit.record(
        session,
        actor=actor,
        action="review.exported",
        entity_type="validation_round",
        detail={"rows": total, "since": since.isoformat() if since else None},
    )
    session.flush()
    return ExportReport(rows=total, since=since, exported_at=now)
