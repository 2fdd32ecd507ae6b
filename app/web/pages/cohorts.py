"""Cohort pages: upload an extract, see what happened to every row."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.cohort.service import get_import, import_stream, recent_imports
from app.errors import InvalidInputError
from app.web.auth import CoordinatorUser, CsrfProtected
from app.web.deps import ExclusionRulesDep, SessionDep, SettingsDep
from app.web.ids import RowId
from app.web.pages.rendering import render

router = APIRouter()


@router.get("/cohorts")
def cohorts(request: Request, user: CoordinatorUser, session: SessionDep) -> HTMLResponse:
    """The upload form and the latest imports."""
    context = {"imports": recent_imports(session), "errors": {}, "form": {"name": ""}}
    return render(request, "cohorts/upload.html", context, user=user)


@router.post("/cohorts/imports", response_model=None)
def upload(
    request: Request,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    rules: ExclusionRulesDep,
    name: Annotated[str, Form(max_length=200)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the uploaded file, then show its result (or the form with the problem)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Enter a name for the cohort, like North PTL"
    if file is None or not file.filename:
        errors["file"] = "Choose the cohort CSV file to upload"
    if not errors and file is not None:
        try:
            report = import_stream(
                session,
                cohort_name=name,
                source=file.file,
                filename=file.filename or "upload.csv",
                default_provider_code=settings.default_provider_code,
                rules=rules,
                actor=user,
            )
        except InvalidInputError as exc:
            errors["file"] = f"The file was refused: {exc}"
        else:
            return RedirectResponse(f"/cohorts/imports/{report.import_job_id}", status_code=303)
    context = {"imports": recent_imports(session), "errors": errors, "form": {"name": name}}
    return render(request, "cohorts/upload.html", context, user=user)


@router.get("/cohorts/imports/{import_job_id}")
def import_result(
    request: Request, import_job_id: RowId, user: CoordinatorUser, session: SessionDep
) -> HTMLResponse:
    """Counts, exclusions per rule and every rejected row (line, column, message)."""
    report = get_import(session, import_job_id=import_job_id, actor=user)
    return render(request, "cohorts/result.html", {"report": report}, user=user)
