"""Unreachable patients for staff to telephone or write to: who, how to reach them, what was tried.

Listing them shows patient records, so every listing is audited (``pathway.list_unreachable``,
one event per pathway), whether it is the page, its CSV, the API or the command line.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.campaigns.service import UnreachablePathway, get_campaign, unreachable_pathways
from app.csvcells import SafeWriter
from app.models import ContactAttempt, Pathway, Patient, User
from app.phones import national_format

AUDIT_ACTION = "pathway.list_unreachable"
CSV_COLUMNS = (
    "name",
    "nhs_number",
    "mobile_phone",
    "landline_phone",
    "pathway",
    "specialty_code",
    "attempts",
    "last_attempt_at",
    "unreachable_since",
)
# Pathway ids per query (well under SQLite's limit on bound parameters).
BATCH = 500


@dataclass(frozen=True)
class UnreachablePatient:
    """One unreachable pathway with its patient's name and numbers."""

    pathway_id: int
    pathway_reference: str
    specialty_code: str
    name: str
    nhs_number: str
    mobile_phone: str | None
    landline_phone: str | None
    attempts: int
    last_attempt_at: dt.datetime | None
    unreachable_since: dt.datetime

    @property
    def nhs_number_spaced(self) -> str:
        """The NHS number as people read it: 3-3-4 digits."""
        return f"{self.nhs_number[:3]} {self.nhs_number[3:6]} {self.nhs_number[6:]}"


def record_listing(session: Session, *, actor: User | str, pathway_ids: Iterable[int]) -> None:
    """Audit that ``actor`` was shown these pathways as unreachable."""
    for pathway_id in pathway_ids:
        audit.record(
            session,
            actor=actor,
            action=AUDIT_ACTION,
            entity_type="pathway",
            entity_id=pathway_id,
            pathway_id=pathway_id,
        )


def list_unreachable_pathways(
    session: Session, *, campaign_id: int, actor: User | str
) -> list[UnreachablePathway]:
    """The campaign's unreachable pathways (references, no contact details), each listing
    audited as ``actor``'s whoever asks (the API, the CLI)."""
    pathways = unreachable_pathways(session, campaign_id=campaign_id)
    record_listing(session, actor=actor, pathway_ids=[row.pathway_id for row in pathways])
    return pathways


def list_unreachable_patients(
    session: Session, *, campaign_id: int, actor: User | str
) -> list[UnreachablePatient]:
    """The campaign's unreachable pathways with contact details, oldest first (audited)."""
    get_campaign(session, campaign_id=campaign_id)
    pathways = unreachable_pathways(session, campaign_id=campaign_id)
    ids = [row.pathway_id for row in pathways]
    details: dict[int, tuple[Patient, dt.datetime | None]] = {}
    for start in range(0, len(ids), BATCH):
        last_attempt = (
            select(func.max(ContactAttempt.placed_at))
            .where(
                ContactAttempt.campaign_id == campaign_id,
                ContactAttempt.pathway_id == Pathway.id,
            )
            .scalar_subquery()
        )
        rows = session.execute(
            select(Pathway.id, Patient, last_attempt)
            .join(Patient, Patient.id == Pathway.patient_id)
            .where(Pathway.id.in_(ids[start : start + BATCH]))
        ).all()
        details.update({pathway_id: (patient, last) for pathway_id, patient, last in rows})
    record_listing(session, actor=actor, pathway_ids=ids)
    result = []
    for row in pathways:
        patient, last = details[row.pathway_id]
        result.append(
            UnreachablePatient(
                pathway_id=row.pathway_id,
                pathway_reference=row.pathway_reference,
                specialty_code=row.specialty_code,
                name=f"{patient.given_name} {patient.family_name}",
                nhs_number=patient.nhs_number,
                mobile_phone=patient.mobile_phone,
                landline_phone=patient.landline_phone,
                attempts=row.attempts,
                last_attempt_at=last,
                unreachable_since=row.recorded_at,
            )
        )
    return result


def unreachable_csv(patients: list[UnreachablePatient]) -> str:
    """The list as CSV for a spreadsheet or a mail merge (see ``app/csvcells.py``).

    Phones are written as staff dial them (``07700 900001``): as ``+447700900001`` a
    spreadsheet turns them into the number 447700900001.
    """
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for p in patients:
        writer.writerow(
            (
                p.name,
                p.nhs_number_spaced,
                national_format(p.mobile_phone) if p.mobile_phone else "",
                national_format(p.landline_phone) if p.landline_phone else "",
                p.pathway_reference,
                p.specialty_code,
                p.attempts,
                p.last_attempt_at.isoformat() if p.last_attempt_at else "",
                p.unreachable_since.isoformat(),
            )
        )
    return out.getvalue()
