"""Review pages: the queue, one item with its decision form, and the outcome CSV download."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from app.db import utcnow
from app.errors import ConflictError, InvalidInputError
from app.models import Decision, Role, User
from app.review.decisions import (
    PRIORITIES,
    RTT_STATUS_CODES,
    DecidedSummary,
    decide,
    decided_summary,
    decision_problems,
    undo_decision,
)
from app.review.export import count_waiting_for_export, export_outcomes
from app.review.item import view_item
from app.review.queue import QueueFilters, list_queue, next_open_item
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


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _filters(
    campaign: str | None, specialty: str | None, reason: str | None, provider: str | None
) -> QueueFilters:
    return QueueFilters(
        campaign_id=row_id_or_none(campaign),
        specialty_code=_blank(specialty),
        reason=_blank(reason),
        provider_code=_blank(provider),
    )


def _filter_query(filters: QueueFilters) -> dict[str, str]:
    """The filters as query parameters, so each link keeps the clinician in the same queue."""
    return {
        "campaign": str(filters.campaign_id or ""),
        "specialty": filters.specialty_code or "",
        "reason": filters.reason or "",
        "provider": filters.provider_code or "",
    }


def _with_filters(path: str, filters: QueueFilters, **extra: str | int) -> str:
    query = {k: v for k, v in _filter_query(filters).items() if v}
    query.update({k: str(v) for k, v in extra.items()})
    return f"{path}?{urlencode(query)}" if query else path


def _decided(session: SessionDep, decided: int | None, user: User) -> DecidedSummary | None:
    if decided is None or user.role != Role.CLINICIAN:
        return None
    return decided_summary(session, decision_id=decided, by=user)


CampaignQ = Annotated[str | None, Query()]
SpecialtyQ = Annotated[str | None, Query(max_length=3)]
ReasonQ = Annotated[str | None, Query(max_length=24)]
ProviderQ = Annotated[str | None, Query(max_length=12)]


@router.get("/review")
def queue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    campaign: CampaignQ = None,
    specialty: SpecialtyQ = None,
    reason: ReasonQ = None,
    provider: ProviderQ = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    decided: Annotated[RowId | None, Query()] = None,
) -> HTMLResponse:
    """The open review items, most urgent first, with filters and counts."""
    filters = _filters(campaign, specialty, reason, provider)
    page = list_queue(
        session, filters=filters, after=after, before=before, limit=settings.review_page_size
    )
    can_export = user.role in (Role.COORDINATOR, Role.CLINICIAN)
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "filters": _filter_query(filters),
            "item_query": urlencode({k: v for k, v in _filter_query(filters).items() if v}),
            "reason_labels": REASON_LABELS,
            "decided": _decided(session, decided, user),
            "can_export": can_export,
            "waiting_export": count_waiting_for_export(session) if can_export else 0,
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
    filters: QueueFilters,
    decided: int | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = view_item(session, item_id=item_id, viewer=user)
    following = next_open_item(session, filters=filters, after_item_id=item_id)
    return render(
        request,
        "review/item.html",
        {
            "view": view,
            "reason_labels": REASON_LABELS,
            "rtt_codes": RTT_STATUS_CODES,
            "priorities": PRIORITIES,
            "errors": errors or {},
            "form": form or {},
            "conflict": conflict,
            "can_decide": user.role == Role.CLINICIAN,
            "filters": _filter_query(filters),
            "queue_href": _with_filters("/review", filters),
            "decided": _decided(session, decided, user),
            "next_href": _with_filters(f"/review/{following}", filters) if following else None,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/review/{item_id}")
def item_page(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    item_id: RowId,
    campaign: CampaignQ = None,
    specialty: SpecialtyQ = None,
    reason: ReasonQ = None,
    provider: ProviderQ = None,
    decided: Annotated[RowId | None, Query()] = None,
) -> HTMLResponse:
    """One patient's review: summary first, then the decision, then the whole conversation."""
    return _item_page(
        request,
        session,
        item_id=item_id,
        user=user,
        filters=_filters(campaign, specialty, reason, provider),
        decided=decided,
    )


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
    campaign: Annotated[str, Form(max_length=20)] = "",
    specialty: Annotated[str, Form(max_length=3)] = "",
    reason: Annotated[str, Form(max_length=24)] = "",
    provider: Annotated[str, Form(max_length=12)] = "",
) -> HTMLResponse | RedirectResponse:
    """Record the decision and open the next item in the same queue, or show every problem."""
    filters = _filters(campaign, specialty, reason, provider)
    chosen = Decision(decision) if decision in {d.value for d in Decision} else None
    # Only what the chosen decision needs is read: a hidden field left filled is not an error.
    code = rtt_status_code if chosen == Decision.REMOVE else ""
    priority = new_priority if chosen == Decision.EXPEDITE else ""
    form = {"decision": decision, "rtt_status_code": code, "new_priority": priority, "note": note}
    page = partial(_item_page, request, session, item_id=item_id, user=user, filters=filters)
    problems = decision_problems(
        decision=chosen, rtt_status_code=code or None, note=note, new_priority=priority or None
    )
    if problems or chosen is None:
        return page(errors=problems, form=form, status_code=422)
    try:
        record = decide(
            session,
            item_id=item_id,
            seen_version=version,
            decision=chosen,
            by=user,
            note=note,
            rtt_status_code=code or None,
            new_priority=priority or None,
            undo_days=settings.review_undo_days,
        )
    except InvalidInputError as exc:
        return page(errors={_field_for(str(exc)): str(exc)}, form=form, status_code=422)
    except ConflictError as exc:
        session.rollback()
        return page(conflict=str(exc), status_code=409)
    following = next_open_item(session, filters=filters, after_item_id=item_id)
    path = f"/review/{following}" if following is not None else "/review"
    return RedirectResponse(_with_filters(path, filters, decided=record.id), status_code=303)


@router.post("/review/{item_id}/undo", response_model=None)
def undo_page(
    request: Request,
    session: SessionDep,
    user: ClinicianUser,
    _csrf: CsrfProtected,
    item_id: RowId,
    decision_id: Annotated[RowId, Form()],
    campaign: Annotated[str, Form(max_length=20)] = "",
    specialty: Annotated[str, Form(max_length=3)] = "",
    reason: Annotated[str, Form(max_length=24)] = "",
    provider: Annotated[str, Form(max_length=12)] = "",
) -> HTMLResponse | RedirectResponse:
    """Undo a decision (the banner's undo, or a removal in its window): the item opens again."""
    filters = _filters(campaign, specialty, reason, provider)
    try:
        reopened = undo_decision(session, decision_id=decision_id, by=user)
    except ConflictError as exc:
        session.rollback()
        return _item_page(
            request,
            session,
            item_id=item_id,
            user=user,
            filters=filters,
            conflict=str(exc),
            status_code=409,
        )
    return RedirectResponse(_with_filters(f"/review/{reopened.id}", filters), status_code=303)


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
