"""Writing one chunk of validated rows with a handful of bulk statements.

Patients and pathways are upserted with dialect-specific ``INSERT ... ON CONFLICT`` (SQLite and
PostgreSQL spell it the same way), never one ORM object per row. The caller commits each chunk as
one transaction, so a crash leaves whole chunks or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.cohort.rows import CohortRow, RowError
from app.models import ImportRowError, Pathway, PathwayStatus, Patient

PATIENT = cast(Table, Patient.__table__)
PATHWAY = cast(Table, Pathway.__table__)
ROW_ERROR = cast(Table, ImportRowError.__table__)

_PATIENT_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "date_of_death",
    "sex",
    "postcode",
    "imd_decile",
    "ethnic_category",
    "preferred_language",
    "interpreter_required",
    "mobile_phone",
    "landline_phone",
)
_PATHWAY_FIELDS = (
    "provider_code",
    "pathway_id",
    "local_patient_id",
    "specialty_code",
    "specialty_name",
    "clock_start_date",
    "priority",
    "waiting_list_type",
    "planned_procedure",
    "consultant_code",
    "site",
    "last_validated_date",
    "flags",
    "diagnosis_codes",
    "row_hash",
)


@dataclass
class ChunkCounts:
    """What one chunk did to the database."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def write_chunk(
    session: Session,
    *,
    rows: list[CohortRow],
    cohort_id: int,
    import_job_id: int,
    now: dt.datetime,
) -> ChunkCounts:
    """Upsert the chunk's patients and pathways; rows seen earlier in this file are rejected."""
    counts = ChunkCounts()
    existing = _existing_pathways(session, rows)
    fresh: dict[tuple[str, str], CohortRow] = {}
    unchanged_ids: list[int] = []
    for row in rows:
        key = (row.provider_code, row.pathway_id)
        known = existing.get(key)
        if key in fresh or (known is not None and known["last_import_job_id"] == import_job_id):
            counts.errors.append(
                RowError(
                    row.line,
                    "pathway_id",
                    f"pathway_id {row.pathway_id} (provider {row.provider_code}) appears more "
                    "than once in this file; only its first row was used",
                )
            )
            continue
        if known is None:
            counts.imported += 1
        elif (
            known["row_hash"] == row.row_hash
            and known["status"] == PathwayStatus.OPEN
            and known["cohort_id"] == cohort_id
        ):
            counts.unchanged += 1
            unchanged_ids.append(known["id"])
            existing[key] = {**known, "last_import_job_id": import_job_id}
            continue
        else:
            counts.updated += 1
        fresh[key] = row
    if unchanged_ids:
        # Only the bookkeeping that says "still on the extract"; updated_at keeps its value.
        session.execute(
            update(PATHWAY)
            .where(PATHWAY.c.id.in_(unchanged_ids))
            .values(last_import_job_id=import_job_id, updated_at=PATHWAY.c.updated_at)
        )
    if fresh:
        patient_ids = _upsert_patients(session, list(fresh.values()), now)
        _upsert_pathways(session, fresh.values(), patient_ids, cohort_id, import_job_id, now)
    return counts


def _existing_pathways(
    session: Session, rows: list[CohortRow]
) -> dict[tuple[str, str], dict[str, Any]]:
    by_provider: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_provider[row.provider_code].append(row.pathway_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    columns = (
        PATHWAY.c.id,
        PATHWAY.c.provider_code,
        PATHWAY.c.pathway_id,
        PATHWAY.c.row_hash,
        PATHWAY.c.status,
        PATHWAY.c.cohort_id,
        PATHWAY.c.last_import_job_id,
    )
    for provider, pathway_ids in by_provider.items():
        query = select(*columns).where(
            and_(PATHWAY.c.provider_code == provider, PATHWAY.c.pathway_id.in_(pathway_ids))
        )
        for record in session.execute(query).mappings():
            found[(record["provider_code"], record["pathway_id"])] = dict(record)
    return found


def _upsert_patients(session: Session, rows: list[CohortRow], now: dt.datetime) -> dict[str, int]:
    # One statement may not touch a row twice (PostgreSQL refuses): the file's last row wins.
    latest = {row.nhs_number: row for row in rows}
    params = [
        {
            **{name: getattr(row, name) for name in _PATIENT_FIELDS},
            "created_at": now,
            "updated_at": now,
        }
        for row in latest.values()
    ]
    statement = _insert(session, PATIENT)
    excluded = statement.excluded
    changed = [name for name in _PATIENT_FIELDS if name != "nhs_number"]
    statement = statement.on_conflict_do_update(
        index_elements=[PATIENT.c.nhs_number],
        set_={**{name: excluded[name] for name in changed}, "updated_at": excluded.updated_at},
        where=or_(*(PATIENT.c[name].is_distinct_from(excluded[name]) for name in changed)),
    )
    session.execute(statement, params)
    query = select(PATIENT.c.nhs_number, PATIENT.c.id).where(PATIENT.c.nhs_number.in_(list(latest)))
    return {str(number): int(patient_id) for number, patient_id in session.execute(query)}


def _upsert_pathways(
    session: Session,
    rows: Any,
    patient_ids: dict[str, int],
    cohort_id: int,
    import_job_id: int,
    now: dt.datetime,
) -> None:
    params = [
        {
            **{name: getattr(row, name) for name in _PATHWAY_FIELDS},
            "patient_id": patient_ids[row.nhs_number],
            "cohort_id": cohort_id,
            "last_import_job_id": import_job_id,
            "status": PathwayStatus.OPEN,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    statement = _insert(session, PATHWAY)
    excluded = statement.excluded
    kept = {"provider_code", "pathway_id", "created_at"}
    statement = statement.on_conflict_do_update(
        index_elements=[PATHWAY.c.provider_code, PATHWAY.c.pathway_id],
        set_={name: excluded[name] for name in params[0] if name not in kept},
    )
    session.execute(statement, params)


def write_errors(session: Session, *, errors: list[RowError], import_job_id: int) -> None:
    """Store the chunk's row errors with the chunk (same transaction)."""
    if errors:
        session.execute(
            ROW_ERROR.insert(),
            [
                {
                    "import_job_id": import_job_id,
                    "line": error.line,
                    "column": error.column,
                    "message": error.message[:500],
                }
                for error in errors
            ],
        )


def close_missing(session: Session, *, cohort_id: int, import_job_id: int, now: dt.datetime) -> int:
    """Close the cohort's open pathways that were not on this extract; return how many."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(PATHWAY)
        .where(
            PATHWAY.c.cohort_id == cohort_id,
            PATHWAY.c.status == PathwayStatus.OPEN,
            or_(
                PATHWAY.c.last_import_job_id.is_(None),
                PATHWAY.c.last_import_job_id != import_job_id,
            ),
        )
        .values(status=PathwayStatus.CLOSED, closed_at=now, updated_at=now)
    )
    return int(result.rowcount)
