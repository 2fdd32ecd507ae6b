"""The outcome CSV back to the PAS (``cohort-csv.md``), streamed in batches and formula-safe."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import IO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from app import audit
from app.csvcells import SafeWriter
from app.db import utcnow
from app.errors import PermissionDeniedError
from app.models import ClinicalDecision, Pathway, PathwayOutcome, Patient, ReviewItem, Role, User

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
    """Write decisions not yet exported (or all decided since ``since``) and mark them exported.

    Undone removals are left out. Reads in keyset batches so memory stays bounded.
    """
    if isinstance(actor, User) and not can_export(actor):
        raise PermissionDeniedError("Only coordinators and clinicians can export outcomes.")
    now = now or utcnow()
    decider = aliased(User)
    writer = SafeWriter(out)  # formula-like cells get a leading "'" (docs/review.md)
    writer.writerow(COLUMNS)
    query = (
        select(
            ClinicalDecision.id,
            Pathway.provider_code,
            Pathway.pathway_id,
            Patient.nhs_number,
            PathwayOutcome.outcome,
            ClinicalDecision.decision,
            ClinicalDecision.rtt_status_code,
            decider.username,
            ClinicalDecision.decided_at,
            ClinicalDecision.note,
            ClinicalDecision.new_priority,
        )
        .join(Pathway, Pathway.id == ClinicalDecision.pathway_id)
        .join(Patient, Patient.id == Pathway.patient_id)
        .join(ReviewItem, ReviewItem.id == ClinicalDecision.review_item_id)
        .outerjoin(PathwayOutcome, PathwayOutcome.id == ReviewItem.pathway_outcome_id)
        .join(decider, decider.id == ClinicalDecision.decided_by_id)
        .where(ClinicalDecision.undone_at.is_(None))
        .order_by(ClinicalDecision.id)
        .limit(BATCH_SIZE)
    )
    if since is not None:
        query = query.where(ClinicalDecision.decided_at >= since)
    else:
        query = query.where(ClinicalDecision.exported_at.is_(None))
    last_id, total = 0, 0
    while True:
        batch = session.execute(query.where(ClinicalDecision.id > last_id)).all()
        if not batch:
            break
        for row in batch:
            cells = (
                row.provider_code,
                row.pathway_id,
                row.nhs_number,
                row.outcome.value if row.outcome else "",
                row.decision.value,
                row.rtt_status_code or "",
                row.username,
                row.decided_at.isoformat(timespec="seconds"),
                row.note or "",
                row.new_priority or "",
            )
            writer.writerow(cells)
        ids = [row.id for row in batch]
        session.execute(
            update(ClinicalDecision)
            .where(ClinicalDecision.id.in_(ids))
            .values(exported_at=now)
            .execution_options(synchronize_session=False)
        )
        last_id, total = ids[-1], total + len(ids)
    audit.record(
        session,
        actor=actor,
        action="review.exported",
        entity_type="clinical_decision",
        detail={"rows": total, "since": since.isoformat() if since else None},
    )
    session.flush()
    return ExportReport(rows=total, since=since, exported_at=now)
