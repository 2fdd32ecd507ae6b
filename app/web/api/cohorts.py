"""Cohort imports over the API: a PAS job uploads tonight's extract and reads the result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from app.cohort.mapping import MAPPING_FILE_LIMIT, ColumnMapping, MappingError, parse_mapping
from app.cohort.service import ImportReport, get_import, import_stream
from app.web.api.responses import errors
from app.web.auth import CoordinatorUser
from app.web.deps import ExclusionRulesDep, SessionDep, SettingsDep
from app.web.ids import RowId

router = APIRouter(tags=["cohorts"])


class RowErrorOut(BaseModel):
    """Why one row was rejected; ``line`` is the spreadsheet row (the header is line 1)."""

    line: int
    column: str | None
    message: str


class ImportOut(BaseModel):
    """An import job: counts, exclusions per rule and the first 1,000 row errors."""

    import_job_id: int
    cohort: str
    status: str
    encoding: str | None
    format: str
    sheet: str | None
    mapping_name: str | None
    mapping: dict[str, str]
    rows: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    closed: int
    excluded: dict[str, int]
    unknown_columns: list[str]
    errors: list[RowErrorOut]
    error: str | None


def _mapping(upload: UploadFile | None) -> ColumnMapping | None:
    if upload is None:
        return None
    raw = upload.file.read(MAPPING_FILE_LIMIT + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError("the mapping file is not UTF-8 text") from exc
    return parse_mapping(text, default_name=upload.filename or "mapping.yaml")


def _out(report: ImportReport) -> ImportOut:
    document: dict[str, Any] = report.as_dict()
    return ImportOut.model_validate(document)


@router.post(
    "/cohorts/{name}/imports",
    status_code=201,
    responses=errors(400, 403),
)
def upload_import(
    name: str,
    file: Annotated[
        UploadFile,
        File(description="The cohort file: CSV (UTF-8 or Windows-1252), .xlsx, .xls or .ods"),
    ],
    user: CoordinatorUser,
    session: SessionDep,
    settings: SettingsDep,
    rules: ExclusionRulesDep,
    mapping: Annotated[
        UploadFile | None, File(description="A saved column mapping (YAML) for this source")
    ] = None,
    sheet: Annotated[str | None, Form(max_length=100, description="Workbook sheet")] = None,
) -> ImportOut:
    """Import a cohort extract into the named cohort (created on first use)."""
    report = import_stream(
        session,
        cohort_name=name,
        source=file.file,
        filename=file.filename or "upload.csv",
        default_provider_code=settings.default_provider_code,
        rules=rules,
        actor=user,
        mapping=_mapping(mapping),
        sheet=sheet or None,
    )
    return _out(report)


@router.get("/imports/{import_job_id}", responses=errors(403, 404))
def read_import(import_job_id: RowId, user: CoordinatorUser, session: SessionDep) -> ImportOut:
    """An import job with its counts and row errors."""
    return _out(get_import(session, import_job_id=import_job_id, actor=user))
