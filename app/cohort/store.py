"""Writing one chunk of validated rows with a handful of bulk statements.

Patients and pathways are upserted with ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL spell
it the same way) through the driver's ``executemany``, never one ORM object per row: at a million
rows SQLAlchemy's per-parameter type processing alone would cost more than the database. The
values are therefore converted here, once, to what each driver stores for these column types
(the ORM reads them back as usual). The caller commits each chunk as one transaction, so a crash
leaves whole chunks or nothing.

SQL text here is built only from constant identifiers and placeholders (hence the ``noqa: S608``);
every value is bound.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, update
from sqlalchemy.orm import Session

from app.bulk import Dialect, dialect, in_blocks, marks
from app.cohort.rows import CohortRow, RowError
from app.db import changed
from app.models import Pathway, PathwayStatus

_PATIENT_FIELDS = (
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
_PATHWAY_SET = (*_PATHWAY_FIELDS, "patient_id", "cohort_id", "last_import_job_id", "status")


@dataclass
class ChunkCounts:
    """What one chunk did to the database."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def write_chunk(
    session: Session,
    *,
    rows: list[CohortRow],
    cohort_id: int,
    import_job_id: int,
    now: dt.datetime,
) -> ChunkCounts:
    """Upsert the chunk's patients and pathways; rows seen earlier in this file are rejected."""
    connection = session.connection()
    sql = dialect(connection)
    counts = ChunkCounts()
    existing = _existing_pathways(connection, sql, rows)
    fresh: dict[tuple[str, str], CohortRow] = {}
    unchanged_ids: list[int] = []
    for row in rows:
        key = (row.provider_code, row.pathway_id)
        known = existing.get(key)
        if key in fresh or (known is not None and known[5] == import_job_id):
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
        elif known[2] == row.row_hash and known[3] == PathwayStatus.OPEN and known[4] == cohort_id:
            counts.unchanged += 1
            unchanged_ids.append(known[0])
            existing[key] = (*known[:5], import_job_id)
            continue
        else:
            counts.updated += 1
        fresh[key] = row
    if unchanged_ids:
        # Only the bookkeeping that says "still on the extract"; updated_at keeps its value.
        for block in in_blocks(unchanged_ids):
            connection.exec_driver_sql(
                f"UPDATE pathway SET last_import_job_id = {sql.placeholder} "  # noqa: S608
                f"WHERE id IN ({marks(sql, len(block))})",
                (import_job_id, *block),
            )
    if fresh:
        patient_ids = _upsert_patients(connection, sql, list(fresh.values()), now)
        _upsert_pathways(
            connection, sql, fresh.values(), patient_ids, cohort_id, import_job_id, now
        )
    return counts


def _existing_pathways(
    connection: Connection, sql: Dialect, rows: list[CohortRow]
) -> dict[tuple[str, str], tuple[Any, ...]]:
    by_provider: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_provider[row.provider_code].append(row.pathway_id)
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    for provider, pathway_ids in by_provider.items():
        for block in in_blocks(pathway_ids):
            result = connection.exec_driver_sql(
                "SELECT id, pathway_id, row_hash, status, cohort_id, last_import_job_id "  # noqa: S608
                f"FROM pathway WHERE provider_code = {sql.placeholder} "
                f"AND pathway_id IN ({marks(sql, len(block))})",
                (provider, *block),
            )
            for record in result:
                found[(provider, record[1])] = tuple(record)
    return found


def _upsert_sql(
    sql: Dialect,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    updated: Sequence[str],
    only_if_changed: bool,
) -> str:
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(sql, len(columns))}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in updated)
    )
    if only_if_changed:
        compared = [name for name in updated if name != "updated_at"]
        statement += " WHERE " + " OR ".join(
            f"{table}.{name} {sql.distinct} excluded.{name}" for name in compared
        )
    return statement


def _upsert_patients(
    connection: Connection, sql: Dialect, rows: list[CohortRow], now: dt.datetime
) -> dict[str, int]:
    # One statement may not touch a row twice (PostgreSQL refuses): the file's last row wins.
    latest = {row.nhs_number: row for row in rows}
    stamp = sql.timestamp(now)
    params = [
        (
            row.nhs_number,
            row.given_name,
            row.family_name,
            sql.date(row.date_of_birth),
            sql.date(row.date_of_death),
            row.sex,
            row.postcode,
            row.imd_decile,
            row.ethnic_category,
            row.preferred_language,
            row.interpreter_required,
            row.mobile_phone,
            row.landline_phone,
            stamp,
            stamp,
        )
        for row in latest.values()
    ]
    columns = ("nhs_number", *_PATIENT_FIELDS, "created_at", "updated_at")
    statement = _upsert_sql(
        sql, "patient", columns, ("nhs_number",), (*_PATIENT_FIELDS, "updated_at"), True
    )
    _write(connection, statement, "patient", columns, params)
    ids: dict[str, int] = {}
    for block in in_blocks(list(latest)):
        result = connection.exec_driver_sql(
            f"SELECT nhs_number, id FROM patient WHERE nhs_number IN ({marks(sql, len(block))})",  # noqa: S608
            block,
        )
        ids.update((str(number), int(patient_id)) for number, patient_id in result)
    return ids


def _upsert_pathways(
    connection: Connection,
    sql: Dialect,
    rows: Iterable[CohortRow],
    patient_ids: dict[str, int],
    cohort_id: int,
    import_job_id: int,
    now: dt.datetime,
) -> None:
    stamp = sql.timestamp(now)
    status = PathwayStatus.OPEN.value
    params = [
        (
            row.provider_code,
            row.pathway_id,
            row.local_patient_id,
            row.specialty_code,
            row.specialty_name,
            sql.date(row.clock_start_date),
            row.priority,
            row.waiting_list_type,
            row.planned_procedure,
            row.consultant_code,
            row.site,
            sql.date(row.last_validated_date),
            sql.json(row.flags),
            sql.json(row.diagnosis_codes),
            row.row_hash,
            patient_ids[row.nhs_number],
            cohort_id,
            import_job_id,
            status,
            None,
            "pending",
            stamp,
            stamp,
        )
        for row in rows
    ]
    columns = (
        "provider_code",
        "pathway_id",
        *_PATHWAY_SET,
        "closed_at",
        "outcome",
        "created_at",
        "updated_at",
    )
    updated = (*_PATHWAY_SET, "closed_at", "updated_at")
    statement = _upsert_sql(
        sql, "pathway", columns, ("provider_code", "pathway_id"), updated, False
    )
    _write(connection, statement, "pathway", columns, params)


def _write(
    connection: Connection,
    upsert: str,
    table: str,
    columns: Sequence[str],
    params: list[tuple[Any, ...]],
) -> None:
    """Run ``upsert`` for every row: ``executemany`` on SQLite, ``COPY`` then one statement on
    PostgreSQL.

    PostgreSQL takes rows fastest through ``COPY``; it cannot resolve conflicts itself, so the
    rows go to a temporary staging table (emptied at commit) and one ``INSERT ... SELECT`` with
    the very same ``ON CONFLICT`` clause as the SQLite statement moves them into place.
    """
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql(upsert, params)
        return
    staging = f"import_staging_{table}"
    names = ", ".join(columns)
    values = upsert.index(") VALUES (")
    conflict = upsert.index(" ON CONFLICT ")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "  # noqa: S608
            f"AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            f"{upsert[:values]}) SELECT {names} FROM {staging}{upsert[conflict:]}"  # noqa: S608
        )
        cursor.execute(f"TRUNCATE {staging}")  # the next chunk may share this transaction
    finally:
        cursor.close()


def write_errors(session: Session, *, errors: list[RowError], import_job_id: int) -> None:
    """Store the chunk's row errors with the chunk (same transaction)."""
    if errors:
        sql = dialect(session.connection())
        session.connection().exec_driver_sql(
            # "column" is a reserved word in both databases, hence the quotes.
            'INSERT INTO import_row_error (import_job_id, line, "column", message) '  # noqa: S608
            f"VALUES ({marks(sql, 4)})",
            [(import_job_id, e.line, e.column, e.message[:500]) for e in errors],
        )


def close_missing(session: Session, *, cohort_id: int, import_job_id: int, now: dt.datetime) -> int:
    """Close the cohort's open pathways that were not on this extract; return how many."""
    result = session.execute(
        update(Pathway)
        .where(
            Pathway.cohort_id == cohort_id,
            Pathway.status == PathwayStatus.OPEN,
            or_(
                Pathway.last_import_job_id.is_(None),
                Pathway.last_import_job_id != import_job_id,
            ),
        )
        .values(status=PathwayStatus.CLOSED, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return changed(result)
