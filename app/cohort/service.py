"""Importing a cohort file: an import job, validated rows in committed chunks, then the rules.

Unlike most domain functions this one commits: it is a unit-of-work owner like a dispatcher tick,
because a long import must show progress and survive a crash chunk by chunk. Each chunk (its
patients, pathways, row errors and the job's counters) is one transaction.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import audit
from app.cohort.mapping import ColumnMapping
from app.cohort.pool import checked_chunks
from app.cohort.reader import Record
from app.cohort.rows import CheckedChunk, RowValidator
from app.cohort.source import open_source
from app.cohort.store import close_missing, write_chunk, write_errors

__all__ = [
    "ImportReport",
    "get_import",
    "import_cohort",
    "import_stream",
    "list_cohorts",
    "recent_imports",
    "write_chunk",
]
from app.db import utcnow
from app.eligibility.rules import RuleSet
from app.eligibility.service import evaluate_cohort, exclusion_counts
from app.errors import DomainError, InvalidInputError, NotFoundError
from app.models import (
    Cohort,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Pathway,
    PathwayStatus,
    User,
)

CHUNK_ROWS = 10_000
REPORTED_ERRORS = 1_000


@dataclass
class ImportReport:
    """The outcome of one import, as the CLI and API report it."""

    import_job_id: int
    cohort: str
    status: ImportStatus
    encoding: str | None
    counts: dict[str, int]
    excluded: dict[str, int]
    unknown_columns: list[str]
    errors: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    file_format: str = "csv"
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    mapping_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``waitlist import --json`` and the API."""
        return {
            "import_job_id": self.import_job_id,
            "cohort": self.cohort,
            "status": self.status.value,
            "encoding": self.encoding,
            "format": self.file_format,
            "sheet": self.sheet,
            "mapping_name": self.mapping_name,
            "mapping": self.mapping,
            **self.counts,
            "excluded": self.excluded,
            "unknown_columns": self.unknown_columns,
            "errors": self.errors,
            "error": self.error,
        }


def get_or_create_cohort(session: Session, *, name: str) -> Cohort:
    """The cohort called ``name``, created if new."""
    cohort = session.scalars(select(Cohort).where(Cohort.name == name)).first()
    if cohort is None:
        cohort = Cohort(name=name)
        session.add(cohort)
        session.flush()
    return cohort


def import_cohort(
    session: Session,
    *,
    cohort_name: str,
    path: Path,
    filename: str | None = None,
    default_provider_code: str,
    rules: RuleSet | None,
    actor: User | str,
    today: dt.date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
    mapping: ColumnMapping | None = None,
    sheet: str | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import ``path`` into the cohort, close pathways no longer listed, then apply ``rules``.

    ``path`` is CSV or a workbook (``sheet`` picks its sheet); ``mapping`` names the file's own
    columns. A file with a missing required column, an unreadable encoding or an oversized
    sheet is refused whole (the job is recorded as failed and the DomainError raised); bad rows
    are rejected one by one. ``progress(rows_done, rows_expected)`` is called after each chunk.
    A large file's rows are validated in a pool of ``workers`` processes (default: one per spare
    CPU; 0: none), see ``app.cohort.pool``.
    A finished import is audited as ``actor``'s, in its last transaction, whoever asked (a page,
    the API, the CLI).
    """
    now = utcnow()
    today = today or now.date()
    cohort = get_or_create_cohort(session, name=cohort_name)
    job = ImportJob(
        cohort_id=cohort.id,
        filename=(filename or path.name)[:255],
        status=ImportStatus.RUNNING,
        created_by=actor.username if isinstance(actor, User) else actor,
        started_at=now,
        mapping_name=mapping.name[:200] if mapping and mapping.name else None,
    )
    session.add(job)
    session.commit()
    try:
        source = open_source(path, sheet=sheet, mapping=mapping)
        job.encoding, job.file_sha256 = source.encoding, source.sha256
        job.file_format, job.sheet = source.file_format, source.sheet
        job.column_mapping = source.header.mapping
        job.unknown_columns = list(source.header.unknown)
        session.commit()
        validator = RowValidator(
            source.header, today=today, default_provider_code=default_provider_code
        )
        done = 0
        chunks = _chunks(source.rows, chunk_rows)
        for checked in checked_chunks(
            chunks, validator, expected_rows=source.expected_rows, workers=workers
        ):
            _import_chunk(session, job=job, checked=checked, now=now)
            done += checked.rows
            if progress:
                progress(done, max(source.expected_rows, done))
        job.closed = close_missing(session, cohort_id=cohort.id, import_job_id=job.id, now=now)
        excluded = (
            evaluate_cohort(session, cohort_id=cohort.id, rules=rules, on_date=today)
            if rules is not None
            else {}
        )
        job.status = ImportStatus.SUCCEEDED
        job.finished_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="cohort_imported",
            entity_type="import_job",
            entity_id=job.id,
            detail=_counts(job),
        )
        session.commit()
    except BaseException as exc:
        session.rollback()
        _mark_failed(session, job_id=job.id, error=exc)
        raise
    return _report(session, job=job, cohort=cohort, excluded=excluded)


def _chunks(rows: Iterator[tuple[int, Record]], size: int) -> Iterator[list[tuple[int, Record]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _import_chunk(
    session: Session, *, job: ImportJob, checked: CheckedChunk, now: dt.datetime
) -> None:
    counts = write_chunk(
        session, rows=checked.valid, cohort_id=job.cohort_id, import_job_id=job.id, now=now
    )
    write_errors(session, errors=[*checked.errors, *counts.errors], import_job_id=job.id)
    job.rows += checked.rows
    job.imported += counts.imported
    job.updated += counts.updated
    job.unchanged += counts.unchanged
    job.rejected += checked.rejected + len(counts.errors)
    session.commit()


def _mark_failed(session: Session, *, job_id: int, error: BaseException) -> None:
    message = str(error) if isinstance(error, DomainError) else f"{type(error).__name__}"
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.RUNNING)
        .values(status=ImportStatus.FAILED, error=message[:2000], finished_at=utcnow())
    )
    session.commit()


def _counts(job: ImportJob) -> dict[str, int]:
    return {
        "rows": job.rows,
        "imported": job.imported,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "rejected": job.rejected,
        "closed": job.closed,
    }


def _report(
    session: Session, *, job: ImportJob, cohort: Cohort, excluded: dict[str, int]
) -> ImportReport:
    errors = session.scalars(
        select(ImportRowError)
        .where(ImportRowError.import_job_id == job.id)
        .order_by(ImportRowError.line, ImportRowError.id)
        .limit(REPORTED_ERRORS)
    ).all()
    return ImportReport(
        import_job_id=job.id,
        cohort=cohort.name,
        status=job.status,
        encoding=job.encoding,
        counts=_counts(job),
        excluded=excluded,
        unknown_columns=list(job.unknown_columns),
        errors=[{"line": e.line, "column": e.column, "message": e.message} for e in errors],
        error=job.error,
        file_format=job.file_format,
        sheet=job.sheet,
        mapping=dict(job.column_mapping or {}),
        mapping_name=job.mapping_name,
    )


def get_import(session: Session, *, import_job_id: int, actor: User | str) -> ImportReport:
    """A stored import job with its counts, the cohort's exclusions and the first row errors
    (its rejected rows quote patients' cells: the view is audited as ``actor``'s)."""
    job = session.get(ImportJob, import_job_id)
    if job is None:
        raise NotFoundError(f"import {import_job_id} not found")
    audit.record(
        session,
        actor=actor,
        action="import_viewed",
        entity_type="import_job",
        entity_id=import_job_id,
    )
    cohort = session.get(Cohort, job.cohort_id)
    assert cohort is not None
    excluded = exclusion_counts(session, cohort_id=cohort.id)
    return _report(session, job=job, cohort=cohort, excluded=excluded)


def recent_imports(session: Session, *, limit: int = 20) -> list[tuple[ImportJob, str]]:
    """The latest import jobs with their cohort's name, newest first."""
    query = (
        select(ImportJob, Cohort.name)
        .join(Cohort, Cohort.id == ImportJob.cohort_id)
        .order_by(ImportJob.id.desc())
        .limit(limit)
    )
    return [(job, str(name)) for job, name in session.execute(query)]


@dataclass(frozen=True)
class CohortLine:
    """A cohort a campaign can be run over, with how many of its pathways are open."""

    id: int
    name: str
    open_pathways: int


def list_cohorts(session: Session) -> list[CohortLine]:
    """Every imported cohort, newest first, with its open pathways counted."""
    open_pathways = (
        select(func.count())
        .where(Pathway.cohort_id == Cohort.id, Pathway.status == PathwayStatus.OPEN)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Cohort.id, Cohort.name, open_pathways).order_by(Cohort.id.desc())
    ).all()
    return [CohortLine(id=id_, name=name, open_pathways=count) for id_, name, count in rows]


def import_stream(
    session: Session,
    *,
    cohort_name: str,
    source: BinaryIO,
    filename: str,
    default_provider_code: str,
    rules: RuleSet,
    actor: User | str,
    mapping: ColumnMapping | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Import an uploaded file: spooled to a temporary file first (memory stays flat)."""
    if not cohort_name.strip():
        raise InvalidInputError("give the cohort a name")
    with tempfile.TemporaryDirectory(prefix="waitlist-import-") as directory:
        path = Path(directory) / "upload"
        with path.open("wb") as target:
            shutil.copyfileobj(source, target, length=1 << 20)
        return import_cohort(
            session,
            cohort_name=cohort_name.strip()[:200],
            path=path,
            filename=filename,
            default_provider_code=default_provider_code,
            rules=rules,
            actor=actor,
            mapping=mapping,
            sheet=sheet,
        )
