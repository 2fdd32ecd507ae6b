"""``/api/v1/campaigns``: create, follow and steer campaigns from machine clients."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.campaigns import service
from app.campaigns.listing import CampaignSummary, list_campaigns
from app.campaigns.service import CampaignStatusReport
from app.campaigns.unreachable import list_unreachable_pathways
from app.config import Settings
from app.flows import ScriptRegistry
from app.models import Campaign
from app.web.api.responses import errors
from app.web.auth import CoordinatorUser, StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId

router = APIRouter(tags=["campaigns"])
# A coordinator's control: others get 403, an unknown campaign 404, the wrong state 409.
CONTROL = errors(403, 404, 409)


class CampaignLine(BaseModel):
    """A campaign in the list, with its progress counts."""

    id: int
    name: str
    status: str
    simulated: bool
    cohort_id: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    pathways_in_cohort: int
    pathways_with_outcome: int
    attempts: int
    attempts_finished: int

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignLine:
        """The API shape of a list line."""
        return cls(**summary.__dict__)


class CampaignIn(BaseModel):
    """A new draft campaign over a cohort, using the newest approved version of a flow."""

    name: str = Field(min_length=1, max_length=200)
    cohort_id: RowId
    flow_id: str = Field(min_length=1, max_length=100, description="A call script id.")
    starts_at: dt.datetime | None = None
    calling_windows: dict[str, Any] | None = Field(
        default=None, description="Default: Mon-Fri 09-19, Sat 10-16, in the service's time zone."
    )
    attempt_policy: dict[str, Any] | None = Field(
        default=None, description="Default: 3 calls, then an SMS."
    )
    calls_per_second: float | None = Field(
        default=None, gt=0, description="Default (and most): the account's rate."
    )
    simulated: bool = False
    rule_set: str | None = Field(default=None, max_length=100)
    sms_provider: Literal["telephony", "notify"] | None = Field(
        default=None,
        description="How texts go: 'telephony' (as the calls) or 'notify' (GOV.UK Notify). "
        "Default: the deployment's WAITLIST_SMS_PROVIDER.",
    )


class CampaignStatusOut(BaseModel):
    """Progress of one campaign: attempts by state, the cohort's pathways by outcome."""

    id: int
    name: str
    status: str
    simulated: bool
    calls_per_second: float
    attempts: dict[str, int]
    pathways_in_cohort: int
    outcomes: dict[str, int]
    unreachable: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    sms_provider: str = Field(description="How the texts go: 'telephony' or 'notify'.")
    routed: dict[str, int] = Field(
        default_factory=dict,
        description="Script id -> first calls with it; worklist:<reason> -> handed to staff.",
    )

    @classmethod
    def of(cls, report: CampaignStatusReport) -> CampaignStatusOut:
        """The API shape of a status report."""
        return cls(**report.__dict__)


class UnreachableOut(BaseModel):
    """A pathway the policy could not reach: staff telephone or write to the patient."""

    pathway_id: int
    pathway_reference: str
    specialty_code: str
    attempts: int
    note: str | None
    recorded_at: dt.datetime


@router.get("/campaigns")
def list_all(session: SessionDep, _user: StaffUser) -> list[CampaignLine]:
    """Every campaign, newest first."""
    return [CampaignLine.of(summary) for summary in list_campaigns(session)]


def create_draft(
    session: Session, *, settings: Settings, registry: ScriptRegistry, body: CampaignIn, actor: str
) -> Campaign:
    """A draft campaign from ``body``: the one way the API and the page's form create one."""
    return service.create_campaign_from_flow(
        session,
        registry=registry,
        flow_id=body.flow_id,
        name=body.name,
        cohort_id=body.cohort_id,
        provider_name=settings.telephony_provider,
        account_calls_per_second=settings.calls_per_second,
        starts_at=body.starts_at,
        calling_windows=body.calling_windows,
        attempt_policy=body.attempt_policy,
        calls_per_second=body.calls_per_second,
        simulated=body.simulated,
        rule_set=body.rule_set,
        sms_provider=body.sms_provider or settings.sms_provider,
        sms_providers=settings.sms_providers,
        timezone=settings.timezone,
        created_by=actor,
    )


def script_registry(request: Request) -> ScriptRegistry:
    """The call scripts loaded when the app started."""
    registry: ScriptRegistry = request.app.state.conversation_context.registry
    return registry


@router.post("/campaigns", status_code=201, responses=errors(400, 403, 404, 409))
def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    body: CampaignIn,
) -> CampaignStatusOut:
    """Create a draft campaign (start it with ``POST /campaigns/{id}/start``)."""
    campaign = create_draft(
        session,
        settings=settings,
        registry=script_registry(request),
        body=body,
        actor=user.username,
    )
    return CampaignStatusOut.of(service.campaign_status(session, campaign_id=campaign.id))


@router.get("/campaigns/{campaign_id}", responses=errors(404))
def status(session: SessionDep, _user: StaffUser, campaign_id: RowId) -> CampaignStatusOut:
    """Progress of one campaign."""
    return CampaignStatusOut.of(service.campaign_status(session, campaign_id=campaign_id))


def _act(session: SessionDep, action: str, campaign_id: int, actor: str) -> CampaignStatusOut:
    step = {
        "start": service.start_campaign,
        "pause": service.pause_campaign,
        "resume": service.resume_campaign,
        "cancel": service.cancel_campaign,
    }[action]
    step(session, campaign_id=campaign_id, actor=actor)
    return CampaignStatusOut.of(service.campaign_status(session, campaign_id=campaign_id))


@router.post("/campaigns/{campaign_id}/start", responses=CONTROL)
def start(session: SessionDep, user: CoordinatorUser, campaign_id: RowId) -> CampaignStatusOut:
    """Plan the first attempts and schedule the campaign; 409 unless it is a draft."""
    return _act(session, "start", campaign_id, user.username)


@router.post("/campaigns/{campaign_id}/pause", responses=CONTROL)
def pause(session: SessionDep, user: CoordinatorUser, campaign_id: RowId) -> CampaignStatusOut:
    """Stop placing contacts (calls already ringing finish); 409 unless it is running."""
    return _act(session, "pause", campaign_id, user.username)


@router.post("/campaigns/{campaign_id}/resume", responses=CONTROL)
def resume(session: SessionDep, user: CoordinatorUser, campaign_id: RowId) -> CampaignStatusOut:
    """Place contacts again; 409 unless it is paused."""
    return _act(session, "resume", campaign_id, user.username)


@router.post("/campaigns/{campaign_id}/cancel", responses=CONTROL)
def cancel(session: SessionDep, user: CoordinatorUser, campaign_id: RowId) -> CampaignStatusOut:
    """Cancel the campaign and every attempt not yet claimed; 409 once it has finished."""
    return _act(session, "cancel", campaign_id, user.username)


@router.get("/campaigns/{campaign_id}/unreachable", responses=errors(404))
def unreachable(session: SessionDep, user: StaffUser, campaign_id: RowId) -> list[UnreachableOut]:
    """Pathways the policy could not reach (each listing is audited)."""
    rows = list_unreachable_pathways(session, campaign_id=campaign_id, actor=user)
    return [UnreachableOut(**row.__dict__) for row in rows]
