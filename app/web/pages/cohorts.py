"""Cohort pages: upload an extract, confirm how its columns map, see what happened to every row."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.cohort.columns import KNOWN, REQUIRED, MissingColumnsError
from app.cohort.mapping import ColumnMapping, Suggestion, mapping_from_pairs
from app.cohort.service import ImportReport, get_import, import_stream, recent_imports
from app.cohort.source import HeaderSuggestion, suggest_for_stream
from app.errors import InvalidInputError
from app.web.auth import CoordinatorUser, CsrfProtected
from app.web.deps import ExclusionRulesDep, SessionDep, SettingsDep
from app.web.ids import RowId
from app.web.pages.rendering import render

router = APIRouter()
CONFIRMED_ON_PAGE = "confirmed on the cohorts page"


@router.get("/cohorts")
def cohorts(request: Request, user: CoordinatorUser, session: SessionDep) -> HTMLResponse:
    """The upload form and the latest imports."""
    context = {"imports": recent_imports(session), "errors": {}, "form": {"name": "", "sheet": ""}}
    return render(request, "cohorts/upload.html", context, user=user)


def _mapping_page(
    request: Request,
    user: CoordinatorUser,
    *,
    found: HeaderSuggestion,
    form: dict[str, str],
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """The header of the file, each cell with the column proposed (or chosen) for it."""
    proposed = chosen if chosen is not None else found.suggestion.mapping.columns
    rows = [(cell.strip(), proposed.get(cell.strip(), "")) for cell in found.header if cell.strip()]
    mapping = ColumnMapping(
        columns={cell: column for cell, column in rows if column}, sheet=found.sheet
    )
    context = {
        "found": found,
        "rows": rows,
        "columns": [("", "Not used"), *[(name, name) for name in KNOWN]],
        "required": REQUIRED,
        "missing": [name for name in REQUIRED if name not in mapping.columns.values()],
        "yaml": mapping.as_yaml(),
        "form": form,
        "errors": errors or {},
    }
    return render(request, "cohorts/mapping.html", context, user=user)


@router.get("/cohorts/mapping")
def mapping_form(request: Request, user: CoordinatorUser) -> HTMLResponse:
    """Upload an extract to see how its columns would be read, before importing it."""
    context = {"errors": {}, "form": {"sheet": ""}}
    return render(request, "cohorts/mapping_upload.html", context, user=user)


@router.post("/cohorts/mapping", response_model=None)
def suggest(
    request: Request,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    name: Annotated[str, Form(max_length=200)] = "",
    sheet: Annotated[str, Form(max_length=100)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Propose a mapping for the uploaded file's header, for a person to confirm."""
    errors: dict[str, str] = {}
    if file is None or not file.filename:
        errors["file"] = "Choose the extract whose columns you want to check"
    else:
        try:
            found = suggest_for_stream(file.file, sheet=sheet.strip() or None)
        except InvalidInputError as exc:
            errors["file"] = f"The file cannot be read: {exc}"
        else:
            form = {"name": name, "sheet": found.sheet or ""}
            return _mapping_page(request, user, found=found, form=form)
    context = {"errors": errors, "form": {"sheet": sheet}}
    return render(request, "cohorts/mapping_upload.html", context, user=user)


@router.post("/cohorts/imports/mapped", response_model=None)
def upload_mapped(
    request: Request,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    rules: ExclusionRulesDep,
    name: Annotated[str, Form(max_length=200)] = "",
    sheet: Annotated[str, Form(max_length=100)] = "",
    header: Annotated[list[str] | None, Form()] = None,
    column: Annotated[list[str] | None, Form()] = None,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the file with the mapping the person confirmed, or show what stops it."""
    headers, columns = header or [], column or []
    pairs = list(zip(headers, columns, strict=False))
    errors: dict[str, str] = {}
    mapping: ColumnMapping | None = None
    try:
        mapping = mapping_from_pairs(pairs, name=CONFIRMED_ON_PAGE)
    except InvalidInputError as exc:
        errors["mapping"] = str(exc)
    if not name.strip():
        errors["name"] = "Enter a name for the cohort, like North PTL"
    if file is None or not file.filename:
        errors["file"] = "Choose the same file again to import it with this mapping"
    if not errors and file is not None and mapping is not None:
        try:
            report = _import(session, user, settings, rules, file, name, sheet, mapping)
        except InvalidInputError as exc:
            errors["file"] = f"The file was refused: {exc}"
        else:
            return RedirectResponse(f"/cohorts/imports/{report.import_job_id}", status_code=303)
    found = HeaderSuggestion(
        file_format="",
        sheet=sheet or None,
        header=headers,
        suggestion=Suggestion(mapping=ColumnMapping(columns={})),
    )
    chosen = {h.strip(): c for h, c in pairs if c}
    form = {"name": name, "sheet": sheet}
    return _mapping_page(request, user, found=found, form=form, chosen=chosen, errors=errors)


@router.post("/cohorts/imports", response_model=None)
def upload(
    request: Request,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    rules: ExclusionRulesDep,
    name: Annotated[str, Form(max_length=200)] = "",
    sheet: Annotated[str, Form(max_length=100)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the uploaded file, then show its result (or the form with the problem).

    A file whose header lacks our required columns goes to the mapping page, with a mapping
    proposed from its header, instead of being refused outright.
    """
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Enter a name for the cohort, like North PTL"
    if file is None or not file.filename:
        errors["file"] = "Choose the cohort file (CSV or Excel) to upload"
    if not errors and file is not None:
        try:
            report = _import(session, user, settings, rules, file, name, sheet, None)
        except MissingColumnsError as exc:
            file.file.seek(0)
            try:
                found = suggest_for_stream(file.file, sheet=sheet.strip() or None)
            except InvalidInputError:
                errors["file"] = f"The file was refused: {exc}"
            else:
                form = {"name": name, "sheet": found.sheet or ""}
                problem = {"mapping": f"The file's columns need matching to ours: {exc}"}
                return _mapping_page(request, user, found=found, form=form, errors=problem)
        except InvalidInputError as exc:
            errors["file"] = f"The file was refused: {exc}"
        else:
            return RedirectResponse(f"/cohorts/imports/{report.import_job_id}", status_code=303)
    context = {
        "imports": recent_imports(session),
        "errors": errors,
        "form": {"name": name, "sheet": sheet},
    }
    return render(request, "cohorts/upload.html", context, user=user)


def _import(
    session: SessionDep,
    user: CoordinatorUser,
    settings: SettingsDep,
    rules: ExclusionRulesDep,
    file: UploadFile,
    name: str,
    sheet: str,
    mapping: ColumnMapping | None,
) -> ImportReport:
    return import_stream(
        session,
        cohort_name=name,
        source=file.file,
        filename=file.filename or "upload",
        default_provider_code=settings.default_provider_code,
        rules=rules,
        actor=user,
        mapping=mapping,
        sheet=sheet.strip() or None,
    )


@router.get("/cohorts/imports/{import_job_id}")
def import_result(
    request: Request, import_job_id: RowId, user: CoordinatorUser, session: SessionDep
) -> HTMLResponse:
    """Counts, exclusions per rule and every rejected row (line, column, message)."""
    report = get_import(session, import_job_id=import_job_id, actor=user)
    return render(request, "cohorts/result.html", {"report": report}, user=user)
