"""Campaign pages: the list with progress, one campaign live, and the coordinator's controls."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.campaigns import service
from app.campaigns.listing import list_campaigns
from app.campaigns.progress import CampaignProgress, campaign_progress
from app.campaigns.service import CampaignStatusReport
from app.campaigns.unreachable import (
    UnreachablePatient,
    list_unreachable_patients,
    unreachable_csv,
)
from app.cohort.service import list_cohorts
from app.db import utcnow
from app.errors import ConflictError, DomainError, NotFoundError
from app.models import CampaignStatus, Role, User
from app.web.api.campaigns import create_draft, script_registry
from app.web.auth import CoordinatorUser, CsrfProtected, StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId
from app.web.pages.campaign_form import (
    DAY_NAMES,
    WINDOW_DAYS,
    CampaignForm,
    default_form,
    domain_errors,
    parse_form,
)
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
    "create": "Campaign created as a draft: nobody is contacted until you start it",
    "start": "Campaign started: its first contacts are planned",
    "pause": "Campaign paused: no new contacts will be placed",
    "resume": "Campaign resumed",
    "cancel": "Campaign cancelled",
}
# The page's live part is polled while contacts may be going out (by a small script; a plain
# "Refresh" link without it): no <meta refresh>, which moves a screen reader's place (axe).
LIVE_STATUSES = frozenset({S.SCHEDULED.value, S.RUNNING.value})
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
        {
            "campaigns": list_campaigns(session),
            "status_colours": STATUS_COLOURS,
            "can_create": user.role == Role.COORDINATOR,
        },
        user=user,
    )


# How the form names each way a campaign's texts can go (``Settings.sms_providers``).
SMS_PROVIDER_LABELS = {
    "telephony": "With the calls (the telephony provider)",
    "notify": "GOV.UK Notify",
}


def _new_form(
    request: Request,
    session: SessionDep,
    *,
    user: User,
    form: CampaignForm,
    errors: dict[str, str],
) -> HTMLResponse:
    cohorts = [
        (str(c.id), f"{c.name} ({c.open_pathways:,} open pathways)") for c in list_cohorts(session)
    ]
    scripts = [
        (s.id, f"{s.title} ({s.id}, version {s.version})")
        for s in script_registry(request).all()
        if s.approved
    ]
    context = {
        "form": form,
        "errors": errors,
        "cohorts": [("", "Select a cohort"), *cohorts] if cohorts else [],
        "scripts": [("", "Select a call script"), *scripts] if scripts else [],
        "days": [(day, DAY_NAMES[day]) for day in WINDOW_DAYS],
        "account_rate": request.app.state.settings.calls_per_second,
        "sms_providers": [
            (name, SMS_PROVIDER_LABELS.get(name, name))
            for name in request.app.state.settings.sms_providers
        ],
    }
    return render(request, "campaigns/new.html", context, user=user)


# Declared before the campaign page so that "new" is not read as a campaign id.
@router.get("/campaigns/new")
def new_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: CoordinatorUser
) -> HTMLResponse:
    """The form to create a draft campaign, prefilled with the usual hours and attempts."""
    form = default_form(
        account_calls_per_second=settings.calls_per_second, sms_provider=settings.sms_provider
    )
    return _new_form(request, session, user=user, form=form, errors={})


@router.post("/campaigns/new", response_model=None)
def create_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    _csrf: CsrfProtected,
    form: Annotated[CampaignForm, Form()],
) -> HTMLResponse | RedirectResponse:
    """Create the draft exactly as the API does, or show the form again with the problems."""
    body, errors = parse_form(form, zone=settings.zone)
    if body is not None:
        try:
            campaign = create_draft(
                session,
                settings=settings,
                registry=script_registry(request),
                body=body,
                actor=user.username,
            )
        except DomainError as exc:
            session.rollback()
            errors = domain_errors(exc)
        else:
            return _done_redirect(request, campaign.id, "create")
    return _new_form(request, session, user=user, form=form, errors=errors)


def _report(session: SessionDep, campaign_id: int) -> CampaignStatusReport:
    """The campaign's status, or the "page not found" page."""
    try:
        return service.campaign_status(session, campaign_id=campaign_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc


DONE_COOKIE = "waitlist_done"


def _progress(session: SessionDep, campaign_id: int) -> CampaignProgress:
    try:
        return campaign_progress(session, campaign_id=campaign_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc


def _done_redirect(request: Request, campaign_id: int, done: str) -> RedirectResponse:
    """To the campaign page, with a one-time banner: a reload does not say it again."""
    response = RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)
    response.set_cookie(
        DONE_COOKIE,
        done,
        max_age=120,
        path=f"/campaigns/{campaign_id}",
        httponly=True,
        secure=request.app.state.settings.secure_cookies,
        samesite="lax",
    )
    return response


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
    progress = _progress(session, campaign_id)
    coordinator = user.role == Role.COORDINATOR
    response = render(
        request,
        "campaigns/detail.html",
        {
            "report": report,
            "progress": progress,
            "actions": ACTIONS_BY_STATUS.get(report.status, ()) if coordinator else (),
            "done": DONE_MESSAGES.get(done or ""),
            "conflict": conflict,
            "live": progress.status in LIVE_STATUSES,
            "refresh_seconds": REFRESH_SECONDS,
            "now": utcnow(),
        },
        user=user,
        status_code=status_code,
    )
    if done:
        response.delete_cookie(DONE_COOKIE, path=f"/campaigns/{campaign_id}")
    return response


@router.get("/campaigns/{campaign_id}")
def detail_page(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    campaign_id: RowId,
    done: Annotated[str | None, Cookie(alias=DONE_COOKIE, max_length=12)] = None,
) -> HTMLResponse:
    """One campaign: where it stands, its set-up, attempts and outcomes, and the controls."""
    return _detail(request, session, campaign_id=campaign_id, user=user, done=done)


@router.get("/campaigns/{campaign_id}/progress")
def progress_fragment(
    request: Request, session: SessionDep, user: StaffUser, campaign_id: RowId
) -> HTMLResponse:
    """The live part of the campaign page alone, for the page's small polling script."""
    report = _report(session, campaign_id)
    progress = _progress(session, campaign_id)
    return render(
        request,
        "campaigns/_progress.html",
        {
            "report": report,
            "progress": progress,
            "live": progress.status in LIVE_STATUSES,
            "refresh_seconds": REFRESH_SECONDS,
            "now": utcnow(),
        },
        user=user,
    )


def _unreachable(session: SessionDep, *, campaign_id: int, user: User) -> list[UnreachablePatient]:
    try:
        return list_unreachable_patients(session, campaign_id=campaign_id, actor=user)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc


# Declared before the page route so that "unreachable.csv" is not read as a page name.
@router.get("/campaigns/{campaign_id}/unreachable.csv")
def unreachable_csv_download(session: SessionDep, user: StaffUser, campaign_id: RowId) -> Response:
    """The unreachable list as CSV (audited like the page: it shows the same records)."""
    patients = _unreachable(session, campaign_id=campaign_id, user=user)
    return Response(
        unreachable_csv(patients),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="campaign-{campaign_id}-unreachable.csv"'
            )
        },
    )


@router.get("/campaigns/{campaign_id}/unreachable")
def unreachable_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    campaign_id: RowId,
) -> HTMLResponse:
    """Patients the attempts could not reach, for staff to telephone or write to (audited)."""
    patients = _unreachable(session, campaign_id=campaign_id, user=user)
    report = _report(session, campaign_id)
    context = {"report": report, "patients": patients, "zone": settings.zone}
    return render(request, "campaigns/unreachable.html", context, user=user)


@router.get("/campaigns/{campaign_id}/cancel")
def confirm_cancel_page(
    request: Request, session: SessionDep, user: CoordinatorUser, campaign_id: RowId
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
    campaign_id: RowId,
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
    return _done_redirect(request, campaign_id, action)
