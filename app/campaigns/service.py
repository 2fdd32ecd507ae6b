"""Campaign lifecycle: ``draft -> scheduled -> running <-> paused -> completed | cancelled``."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import audit
from app.attempts import advance_many
from app.campaigns.languages import routing_counts, store_translations
from app.campaigns.notices import cancel_planned_notices
from app.campaigns.planning import plan_campaign
from app.campaigns.policy import parse_policy
from app.campaigns.sql import changed
from app.campaigns.windows import in_zone, parse_windows
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.flows import ScriptRegistry, ensure_call_script
from app.models import (
    AttemptStatus,
    CallScript,
    Campaign,
    CampaignStatus,
    Cohort,
    ContactAttempt,
    Outcome,
    Pathway,
    PathwayOutcome,
)

S = CampaignStatus
# Which states each operator action may start from.
ALLOWED_FROM = {
    S.SCHEDULED: (S.DRAFT,),
    S.RUNNING: (S.SCHEDULED, S.PAUSED),
    S.PAUSED: (S.RUNNING,),
    S.COMPLETED: (S.RUNNING,),
    S.CANCELLED: (S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED),
}


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign, or NotFoundError."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist")
    return campaign


def create_campaign(
    session: Session,
    *,
    name: str,
    cohort_id: int,
    call_script_id: int,
    provider_name: str,
    account_calls_per_second: float,
    starts_at: dt.datetime | None = None,
    calling_windows: dict[str, Any] | None = None,
    attempt_policy: dict[str, Any] | None = None,
    calls_per_second: float | None = None,
    simulated: bool = False,
    rule_set: str | None = None,
    sms_provider: str = "telephony",
    sms_providers: Collection[str] = ("telephony",),
    timezone: str,
    created_by: str,
) -> Campaign:
    """A draft campaign, validated against the patient-safety rules for real contacts; its
    calling hours are judged in ``timezone`` (the settings' zone) unless they name their own.

    ``sms_provider`` is how its texts go (``telephony``, as the calls, or ``notify``), one of the
    ``sms_providers`` this deployment has configured.
    """
    if session.get(Cohort, cohort_id) is None:
        raise NotFoundError(f"cohort {cohort_id} does not exist", field="cohort_id")
    script = session.get(CallScript, call_script_id)
    if script is None:
        raise NotFoundError(f"call script {call_script_id} does not exist", field="flow_id")
    calling_windows = in_zone(calling_windows, timezone)
    windows = parse_windows(calling_windows)
    policy = parse_policy(attempt_policy)
    if simulated and provider_name != "simulator":
        raise InvalidInputError(
            "a simulated campaign runs only with the simulator provider", field="simulated"
        )
    if not simulated:
        if script.approved_at is None:
            raise InvalidInputError(
                f"call script {script.flow_id} v{script.version} is not approved; "
                "only approved scripts are run against real patients",
                field="flow_id",
            )
        if windows.always_open:
            raise InvalidInputError(
                "only a simulated campaign may have always-open windows", field="calling_windows"
            )
    if sms_provider not in sms_providers:
        raise InvalidInputError(
            f"SMS provider {sms_provider!r} is not configured here; choose one of "
            + ", ".join(sms_providers),
            field="sms_provider",
        )
    if simulated and sms_provider != "telephony":
        # A simulated campaign's patients are synthetic: no real text service may get them.
        raise InvalidInputError(
            "a simulated campaign texts only through the simulator", field="sms_provider"
        )
    rate = calls_per_second or account_calls_per_second
    if not 0 < rate <= account_calls_per_second:
        raise InvalidInputError(
            "calls per second must be above 0 and at most the account's "
            f"{account_calls_per_second}",
            field="calls_per_second",
        )
    campaign = Campaign(
        name=name,
        cohort_id=cohort_id,
        call_script_id=call_script_id,
        status=S.DRAFT,
        starts_at=starts_at,
        calling_windows=calling_windows,
        attempt_policy=policy.as_json(),
        calls_per_second=rate,
        simulated=simulated,
        rule_set=rule_set,
        sms_provider=sms_provider,
        created_by=created_by,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        actor=created_by,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
    )
    return campaign


def create_campaign_from_flow(
    session: Session,
    *,
    registry: ScriptRegistry,
    flow_id: str,
    name: str,
    cohort_id: int,
    provider_name: str,
    account_calls_per_second: float,
    starts_at: dt.datetime | None = None,
    calling_windows: dict[str, Any] | None = None,
    attempt_policy: dict[str, Any] | None = None,
    calls_per_second: float | None = None,
    simulated: bool = False,
    rule_set: str | None = None,
    sms_provider: str = "telephony",
    sms_providers: Collection[str] = ("telephony",),
    timezone: str,
    created_by: str,
) -> Campaign:
    """A draft campaign running the exact content of a loaded script (the API's and page's way)."""
    try:
        loaded = registry.get(flow_id)
    except NotFoundError as exc:
        raise NotFoundError(str(exc), field="flow_id") from exc
    script = ensure_call_script(session, loaded)
    # Its translations are stored too, so planning can give each patient their own language.
    store_translations(session, registry=registry, flow_id=flow_id)
    return create_campaign(
        session,
        name=name,
        cohort_id=cohort_id,
        call_script_id=script.id,
        provider_name=provider_name,
        account_calls_per_second=account_calls_per_second,
        starts_at=starts_at,
        calling_windows=calling_windows,
        attempt_policy=attempt_policy,
        calls_per_second=calls_per_second,
        simulated=simulated,
        rule_set=rule_set,
        sms_provider=sms_provider,
        sms_providers=sms_providers,
        timezone=timezone,
        created_by=created_by,
    )


def transition(
    session: Session,
    *,
    campaign_id: int,
    to: CampaignStatus,
    actor: str,
    now: dt.datetime | None = None,
) -> Campaign:
    """Move a campaign to ``to`` if its current state allows it (a guarded UPDATE)."""
    now = now or utcnow()
    values: dict[str, Any] = {"status": to}
    if to == S.RUNNING:
        values["started_at"] = func.coalesce(Campaign.started_at, now)
    if to in (S.COMPLETED, S.CANCELLED):
        values["finished_at"] = now
    count = changed(
        session,
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(ALLOWED_FROM[to]))
        .values(**values)
        .execution_options(synchronize_session=False),
    )
    campaign = get_campaign(session, campaign_id=campaign_id)
    session.refresh(campaign)
    if count != 1:
        raise ConflictError(f"campaign {campaign_id} is {campaign.status}; it cannot become {to}")
    audit.record(
        session, actor=actor, action=f"campaign.{to}", entity_type="campaign", entity_id=campaign_id
    )
    return campaign


def start_campaign(
    session: Session,
    *,
    campaign_id: int,
    actor: str,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> Campaign:
    """Plan the first attempts and schedule the campaign (the worker starts it when due)."""
    now = now or utcnow()
    campaign = transition(session, campaign_id=campaign_id, to=S.SCHEDULED, actor=actor, now=now)
    plan_campaign(session, campaign=campaign, now=now, rng=rng)
    return campaign


def pause_campaign(session: Session, *, campaign_id: int, actor: str) -> Campaign:
    """Stop placing contacts (those already ringing finish)."""
    return transition(session, campaign_id=campaign_id, to=S.PAUSED, actor=actor)


def resume_campaign(session: Session, *, campaign_id: int, actor: str) -> Campaign:
    """Place contacts again; attempts that fell due while paused go out in the next window."""
    return transition(session, campaign_id=campaign_id, to=S.RUNNING, actor=actor)


def cancel_campaign(session: Session, *, campaign_id: int, actor: str) -> Campaign:
    """Cancel the campaign and every attempt not yet claimed (calls in progress finish)."""
    campaign = transition(session, campaign_id=campaign_id, to=S.CANCELLED, actor=actor)
    advance_many(
        session,
        to=AttemptStatus.CANCELLED,
        only_from=frozenset({AttemptStatus.PLANNED}),
        where=(ContactAttempt.campaign_id == campaign_id,),
        error_message="campaign cancelled",
    )
    cancel_planned_notices(session, campaign_id=campaign_id, reason="campaign_cancel")
    return campaign


@dataclass(frozen=True)
class CampaignStatusReport:
    """Progress of one campaign, for the CLI, the API and the page."""

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
    sms_provider: str = "telephony"
    # Script id -> first calls with it; ``worklist:<reason>`` -> patients handed to staff.
    routed: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return self.__dict__ | {
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def campaign_status(session: Session, *, campaign_id: int) -> CampaignStatusReport:
    """Counts of attempts by state and of the cohort's pathways by outcome."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    attempts = dict(
        session.execute(
            select(ContactAttempt.status, func.count())
            .where(ContactAttempt.campaign_id == campaign_id)
            .group_by(ContactAttempt.status)
        ).all()
    )
    outcomes = dict(
        session.execute(
            select(Pathway.outcome, func.count())
            .where(Pathway.cohort_id == campaign.cohort_id)
            .group_by(Pathway.outcome)
        ).all()
    )
    return CampaignStatusReport(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status.value,
        simulated=campaign.simulated,
        calls_per_second=campaign.calls_per_second,
        sms_provider=campaign.sms_provider,
        attempts={str(k): v for k, v in sorted(attempts.items())},
        pathways_in_cohort=sum(outcomes.values()),
        outcomes={str(k): v for k, v in sorted(outcomes.items())},
        unreachable=len(unreachable_pathways(session, campaign_id=campaign_id)),
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        routed=routing_counts(session, campaign=campaign),
    )


@dataclass(frozen=True)
class UnreachablePathway:
    """A pathway the policy could not reach: staff telephone or write to the patient."""

    pathway_id: int
    pathway_reference: str
    specialty_code: str
    attempts: int
    note: str | None
    recorded_at: dt.datetime


def unreachable_pathways(session: Session, *, campaign_id: int) -> list[UnreachablePathway]:
    """Pathways still unreachable after this campaign's policy, oldest first."""
    attempts = (
        select(func.count())
        .where(ContactAttempt.campaign_id == campaign_id, ContactAttempt.pathway_id == Pathway.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Pathway, PathwayOutcome, attempts)
        .join(PathwayOutcome, PathwayOutcome.pathway_id == Pathway.id)
        .where(
            PathwayOutcome.campaign_id == campaign_id,
            PathwayOutcome.outcome == Outcome.UNREACHABLE,
            Pathway.outcome == Outcome.UNREACHABLE,
        )
        .order_by(PathwayOutcome.recorded_at, Pathway.id)
    ).all()
    seen: set[int] = set()
    result = []
    for pathway, entry, count in rows:
        if pathway.id in seen:
            continue
        seen.add(pathway.id)
        result.append(
            UnreachablePathway(
                pathway_id=pathway.id,
                pathway_reference=pathway.pathway_id,
                specialty_code=pathway.specialty_code,
                attempts=count,
                note=entry.note,
                recorded_at=entry.recorded_at,
            )
        )
    return result
