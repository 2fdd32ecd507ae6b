"""Review pages: the queue, one item with its decision form, and the outcome CSV download."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from app.db import utcnow
from app.errors import ConflictError, InvalidInputError
from app.models import Decision, Role, User
from app.review.decisions import PRIORITIES, RTT_STATUS_CODES, decide, undo_removal
from app.review.export import export_outcomes
from app.review.item import view_item
from app.review.queue import QueueFilters, list_queue
from app.web.auth import ClinicianUser, CsrfProtected, StaffUser, require_roles
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId, row_id_or_none
from app.web.pages.rendering import render

router = APIRouter()

ExporterUser = Annotated[User, Depends(require_roles(Role.COORDINATOR, Role.CLINICIAN))]
REASON_LABELS = {
    "worsened": "Worsened",
    "leave": "Wants to leave",
    "unclear": "Unclear answer",
    "callback_requested": "Asked for a call back",
    "reported_deceased": "Reported to have died (confirm before any change)",
    "stay": "Replied again after removal",
}
DECISION_OPTIONS = [
    ("remove", "Remove from the waiting list", "Needs a confirmed RTT status code."),
    ("keep", "Keep on the waiting list"),
    ("expedite", "Expedite (raise the surgical priority)", "Choose the new priority below."),
    ("call_back", "Call the patient back", "Opens a worklist task for staff to phone them."),
]


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("/review")
def queue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    campaign: Annotated[str | None, Query()] = None,
    specialty: Annotated[str | None, Query(max_length=3)] = None,
    reason: Annotated[str | None, Query(max_length=24)] = None,
    provider: Annotated[str | None, Query(max_length=12)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    decided: Annotated[RowId | None, Query()] = None,
) -> HTMLResponse:
    """The open review items, most urgent first, with filters and counts."""
    campaign_id = row_id_or_none(campaign)
    filters = QueueFilters(
        campaign_id=campaign_id,
        specialty_code=_blank(specialty),
        reason=_blank(reason),
        provider_code=_blank(provider),
    )
    page = list_queue(
        session, filters=filters, after=after, before=before, limit=settings.review_page_size
    )
    base_query = {
        "campaign": campaign_id or "",
        "specialty": filters.specialty_code or "",
        "reason": filters.reason or "",
        "provider": filters.provider_code or "",
    }
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "filters": base_query,
            "reason_labels": REASON_LABELS,
            "decided": decided,
            "can_export": user.role in (Role.COORDINATOR, Role.CLINICIAN),
            "now": utcnow(),
        },
        user=user,
    )


def _item_page(
    request: Request,
    session: SessionDep,
    *,
    item_id: int,
    user: User,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = view_item(session, item_id=item_id, viewer=user)
    return render(
        request,
        "review/item.html",
        {
            "view": view,
            "reason_labels": REASON_LABELS,
            "decision_options": DECISION_OPTIONS,
            "rtt_codes": RTT_STATUS_CODES,
            "priorities": PRIORITIES,
            "errors": errors or {},
            "form": form or {},
            "conflict": conflict,
            "can_decide": user.role == Role.CLINICIAN,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/review/{item_id}")
def item_page(
    request: Request, session: SessionDep, user: StaffUser, item_id: RowId
) -> HTMLResponse:
    """One patient's review: the conversation, the history and (for clinicians) the decision."""
    return _item_page(request, session, item_id=item_id, user=user)


def _field_for(message: str) -> str:
    lowered = message.lower()
    if "note" in lowered:
        return "note"
    if "rtt" in lowered:
        return "rtt_status_code"
    if "priority" in lowered:
        return "new_priority"
    return "decision"


@router.post("/review/{item_id}/decision", response_model=None)
def decide_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: ClinicianUser,
    _csrf: CsrfProtected,
    item_id: RowId,
    version: Annotated[RowId, Form()],
    decision: Annotated[str, Form()] = "",
    rtt_status_code: Annotated[str, Form()] = "",
    new_priority: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Record the clinician's decision, or show the form again with what to fix."""
    form = {
        "decision": decision,
        "rtt_status_code": rtt_status_code,
        "new_priority": new_priority,
        "note": note,
    }
    try:
        chosen = Decision(decision)
    except ValueError:
        return _item_page(
            request,
            session,
            item_id=item_id,
            user=user,
            errors={"decision": "Choose a decision."},
            form=form,
            status_code=422,
        )
    try:
        decide(
            session,
            item_id=item_id,
            seen_version=version,
            decision=chosen,
            by=user,
            note=note,
            rtt_status_code=rtt_status_code or None,
            new_priority=new_priority or None,
            undo_days=settings.review_undo_days,
        )
    except InvalidInputError as exc:
        return _item_page(
            request,
            session,
            item_id=item_id,
            user=user,
            errors={_field_for(str(exc)): str(exc)},
            form=form,
            status_code=422,
        )
    except ConflictError as exc:
        session.rollback()
        return _item_page(
            request, session, item_id=item_id, user=user, conflict=str(exc), status_code=409
        )
    return RedirectResponse(f"/review?decided={item_id}", status_code=303)


@router.post("/review/{item_id}/undo", response_model=None)
def undo_page(
    request: Request,
    session: SessionDep,
    user: ClinicianUser,
    _csrf: CsrfProtected,
    item_id: RowId,
    decision_id: Annotated[RowId, Form()],
) -> HTMLResponse | RedirectResponse:
    """Undo a removal within its change-of-mind window: the item returns to the queue."""
    try:
        undo_removal(session, decision_id=decision_id, by=user, reason="clinician undid removal")
    except ConflictError as exc:
        session.rollback()
        return _item_page(
            request, session, item_id=item_id, user=user, conflict=str(exc), status_code=409
        )
    return RedirectResponse(f"/review/{item_id}", status_code=303)


@router.post("/review/export")
def export_page(
    session: SessionDep,
    user: ExporterUser,
    _csrf: CsrfProtected,
) -> StreamingResponse:
    """Download decisions not yet exported as the outcome CSV, and mark them exported."""
    # Spooled: small exports stay in memory, large ones spill to a temporary file.
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, mode="w+", newline="")  # noqa: SIM115
    export_outcomes(session, out=buffer, actor=user)  # committed by SessionDep before sending
    buffer.seek(0)

    def chunks() -> Iterator[bytes]:
        with buffer:
            while block := buffer.read(64 * 1024):
                yield block.encode("utf-8")

    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="outcomes-{stamp}.csv"'},
    )
