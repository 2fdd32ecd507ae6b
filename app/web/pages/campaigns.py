"""Campaign pages: the list with progress, one campaign live, and the coordinator's controls."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.campaigns import service
from app.campaigns.listing import list_campaigns
from app.campaigns.service import CampaignStatusReport
from app.errors import ConflictError, NotFoundError
from app.models import CampaignStatus, Role, User
from app.web.auth import CoordinatorUser, CsrfProtected, StaffUser
from app.web.deps import SessionDep
from app.web.pages.rendering import render

router = APIRouter()

Action = Literal["start", "pause", "resume", "cancel"]
S = CampaignStatus
# The controls a coordinator sees for each state (cancel asks for confirmation first).
ACTIONS_BY_STATUS: dict[str, tuple[Action, ...]] = {
    S.DRAFT: ("start", "cancel"),
    S.SCHEDULED: ("cancel",),
    S.RUNNING: ("pause", "cancel"),
    S.PAUSED: ("resume", "cancel"),
}
DONE_MESSAGES = {
    "start": "Campaign started: its first contacts are planned",
    "pause": "Campaign paused: no new contacts will be placed",
    "resume": "Campaign resumed",
    "cancel": "Campaign cancelled",
}
# The page refreshes itself while contacts may be going out (no script needed).
LIVE_STATUSES = frozenset({S.SCHEDULED, S.RUNNING})
REFRESH_SECONDS = 10
STATUS_COLOURS = {
    S.DRAFT: "grey",
    S.SCHEDULED: "blue",
    S.RUNNING: "green",
    S.PAUSED: "yellow",
    S.COMPLETED: "white",
    S.CANCELLED: "red",
}


@router.get("/campaigns")
def list_page(request: Request, session: SessionDep, user: StaffUser) -> HTMLResponse:
    """Every campaign with its status and progress counts."""
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": list_campaigns(session), "status_colours": STATUS_COLOURS},
        user=user,
    )


def _report(session: SessionDep, campaign_id: int) -> CampaignStatusReport:
    """The campaign's status, or the "page not found" page."""
    try:
        return service.campaign_status(session, campaign_id=campaign_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc


def _detail(
    request: Request,
    session: SessionDep,
    *,
    campaign_id: int,
    user: User,
    done: str | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = _report(session, campaign_id)
    coordinator = user.role == Role.COORDINATOR
    return render(
        request,
        "campaigns/detail.html",
        {
            "report": report,
            "actions": ACTIONS_BY_STATUS.get(report.status, ()) if coordinator else (),
            "done": DONE_MESSAGES.get(done or ""),
            "conflict": conflict,
            "refresh_seconds": REFRESH_SECONDS if report.status in LIVE_STATUSES else None,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/campaigns/{campaign_id}")
def detail_page(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    campaign_id: int,
    done: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    """One campaign: status, attempts by state, outcomes, unreachable count, controls."""
    return _detail(request, session, campaign_id=campaign_id, user=user, done=done)


@router.get("/campaigns/{campaign_id}/cancel")
def confirm_cancel_page(
    request: Request, session: SessionDep, user: CoordinatorUser, campaign_id: int
) -> HTMLResponse:
    """Ask the coordinator to confirm before cancelling."""
    report = _report(session, campaign_id)
    return render(request, "campaigns/cancel.html", {"report": report}, user=user)


@router.post("/campaigns/{campaign_id}/{action}", response_model=None)
def act_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    campaign_id: int,
    action: Action,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse | RedirectResponse:
    """Start, pause, resume or cancel (cancel only from its confirmation page)."""
    if action == "cancel" and confirm != "yes":
        return RedirectResponse(f"/campaigns/{campaign_id}/cancel", status_code=303)
    step = {
        "start": service.start_campaign,
        "pause": service.pause_campaign,
        "resume": service.resume_campaign,
        "cancel": service.cancel_campaign,
    }[action]
    try:
        step(session, campaign_id=campaign_id, actor=user.username)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    except ConflictError as exc:
        session.rollback()
        return _detail(
            request,
            session,
            campaign_id=campaign_id,
            user=user,
            conflict=str(exc),
            status_code=409,
        )
    return RedirectResponse(f"/campaigns/{campaign_id}?done={action}", status_code=303)
