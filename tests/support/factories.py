"""Synthetic patients and pathways for tests (NHS numbers from the synthetic 999 range)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from nhs_number.validate import is_valid
from sqlalchemy.orm import Session

from app.models import Cohort, Pathway, Patient

_sequence = itertools.count(1)


def synthetic_nhs_number(n: int) -> str:
    """A valid NHS number in the range reserved for testing (999 000 0000 - 999 999 9999).

    ``n`` is taken modulo the range's size: a long test run numbers more patients than the
    range's seven free digits hold, and cutting the longer string short had dropped the 999.
    """
    while True:
        candidate = f"999{n % 10_000_000:07d}"
        if is_valid(candidate):
            return candidate
        n += 1


def make_cohort(session: Session, name: str | None = None) -> Cohort:
    """A named, empty cohort."""
    cohort = Cohort(name=name or f"cohort-{next(_sequence)}")
    session.add(cohort)
    session.flush()
    return cohort


def make_pathway(session: Session, *, cohort: Cohort | None = None, **fields: Any) -> Pathway:
    """A patient with one open pathway; any column can be overridden by keyword."""
    n = next(_sequence)
    cohort = cohort or make_cohort(session)
    patient_fields = {
        k: fields.pop(k)
        for k in list(fields)
        if k in Patient.__table__.columns and k not in Pathway.__table__.columns
    }
    defaults: dict[str, Any] = {
        "nhs_number": synthetic_nhs_number(n * 7919),
        "given_name": "Ada",
        "family_name": "Testpatient",
        "date_of_birth": dt.date(1956, 3, 14),
        "mobile_phone": f"+4477009{n % 100000:05d}",
        "preferred_language": "en",
        "interpreter_required": False,
    }
    patient = Patient(**(defaults | patient_fields))
    session.add(patient)
    session.flush()
    pathway = Pathway(
        provider_code=fields.pop("provider_code", "RXX"),
        pathway_id=fields.pop("pathway_id", f"RXX-{n:06d}"),
        patient_id=patient.id,
        cohort_id=cohort.id,
        specialty_code=fields.pop("specialty_code", "110"),
        clock_start_date=fields.pop("clock_start_date", dt.date(2025, 1, 6)),
        row_hash=fields.pop("row_hash", f"hash-{n}"),
        flags=fields.pop("flags", []),
        diagnosis_codes=fields.pop("diagnosis_codes", []),
        **fields,
    )
    session.add(pathway)
    session.flush()
    return pathway
