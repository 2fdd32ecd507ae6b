"""Cohorts and the import jobs that fill them, with an error per rejected row."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class ImportStatus(StrEnum):
    """Lifecycle of one file import."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Cohort(Base):
    """A named set of pathways, refreshed by successive extracts of the tracking list."""

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportJob(Base):
    """One file taken into a cohort; counts are filled as chunks commit."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(16))
    file_format: Mapped[str] = mapped_column(String(8), default="csv", server_default="csv")
    sheet: Mapped[str | None] = mapped_column(String(100))
    # Every matched header cell, as written, with the column it filled.
    column_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    mapping_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.PENDING
    )
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    unknown_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class ImportRowError(Base):
    """Why one row of a file was rejected, citing the line the user sees in a spreadsheet."""

    __tablename__ = "import_row_error"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    import_job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500))
