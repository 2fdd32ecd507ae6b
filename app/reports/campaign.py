"""The report of one campaign: the funnel, the decisions that followed, breakdowns and costs.

Every number is a SQL aggregate (GROUP BY over the pathway facts or the contact attempts); the
only Python arithmetic is on those few aggregated rows. See docs/reports.md for what each means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select, text
from sqlalchemy.orm import Session

from app import audit
from app.attempts import REACHED_PROVIDER
from app.config import Settings
from app.db import utcnow
from app.errors import NotFoundError
from app.models import (
    Answer,
    AttemptStatus,
    Campaign,
    Channel,
    ClinicalDecision,
    ContactAttempt,
    ContactNotice,
    Decision,
    Exclusion,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Pathway,
    ReviewItem,
    User,
)
from app.reports.equity import DIMENSIONS, EquityBreakdown, equity_breakdowns
from app.reports.facts import (
    UNKNOWN,
    Counts,
    Dimension,
    flag,
    grouped_counts,
    total,
)

# How a report left the service, as its audit record says: shown, or taken away as a file.
ReportAction = Literal["report_viewed", "report_downloaded"]

# The outcomes shown in the funnel, in the order a reader expects them.
FUNNEL_OUTCOMES = (
    Outcome.STAY,
    Outcome.LEAVE,
    Outcome.WORSENED,
    Outcome.UNCLEAR,
    Outcome.UNVERIFIED,
    Outcome.UNREACHABLE,
    Outcome.OPTED_OUT,
    Outcome.CALLBACK_REQUESTED,
    Outcome.REPORTED_DECEASED,
)

FACT_DIMENSIONS = [
    Dimension("all", None),
    Dimension("outcome", "outcome"),
    Dimension("specialty", "specialty_code"),
    Dimension("provider", "provider_code"),
]


@dataclass(frozen=True)
class Funnel:
    """How many pathways reached each stage (each stage counts pathways, not attempts)."""

    cohort: int
    excluded: int
    excluded_by_rule: dict[str, int]
    eligible: int
    attempted: int
    answered: int
    identity_verified: int
    completed: int
    outcomes: dict[str, int]
    no_outcome_yet: int


@dataclass(frozen=True)
class Decisions:
    """Clinical decisions on review items raised by this campaign (undone ones left out)."""

    removed: int
    removed_by_rtt_code: dict[str, int]
    kept: int
    expedited: int
    called_back: int
    open_review_items: int


@dataclass(frozen=True)
class GroupRow:
    """The funnel for one specialty or provider."""

    key: str
    pathways: int
    excluded: int
    attempted: int
    answered: int
    completed: int
    leave: int
    worsened: int
    removed: int


@dataclass(frozen=True)
class AttemptRow:
    """Contact attempts by channel, attempt number or hour of day."""

    key: str
    attempts: int
    reached_provider: int
    answered: int
    completed: int


@dataclass(frozen=True)
class Usage:
    """What the campaign used and what it is estimated to have cost."""

    currency: str
    call_attempts: int
    call_minutes: int
    sms_messages: int
    sms_segments: int
    unit_cost_per_call_attempt: Decimal
    unit_cost_per_call_minute: Decimal
    unit_cost_per_sms_segment: Decimal
    total_cost: Decimal
    validated_pathways: int
    removals: int
    cost_per_validated_pathway: Decimal | None
    cost_per_removal: Decimal | None


@dataclass(frozen=True)
class NoticeRow:
    """The campaign's notices of one kind (the pre-call text, reminders), by state."""

    key: str
    planned: int
    sent: int
    failed: int
    cancelled: int
    in_doubt: int


@dataclass(frozen=True)
class CampaignReport:
    """Everything the report page, the CLI, the CSV and the API show for one campaign."""

    campaign_id: int
    campaign_name: str
    campaign_status: str
    campaign_date: dt.date
    generated_at: dt.datetime
    funnel: Funnel
    decisions: Decisions
    by_specialty: list[GroupRow]
    by_provider: list[GroupRow]
    by_channel: list[AttemptRow]
    by_attempt_number: list[AttemptRow]
    by_hour: list[AttemptRow]
    usage: Usage
    equity: list[EquityBreakdown] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)


def campaign_date(campaign: Campaign, zone: ZoneInfo) -> dt.date:
    """The local date a campaign is dated by (ages are worked out on it)."""
    moment = campaign.started_at or campaign.starts_at or campaign.created_at
    return moment.astimezone(zone).date()


def build_campaign_report(
    session: Session,
    *,
    campaign_id: int,
    settings: Settings,
    actor: User | str,
    action: ReportAction = "report_viewed",
    now: dt.datetime | None = None,
) -> CampaignReport:
    """Aggregate everything known about one campaign into a report, audited as ``actor``'s
    ``action`` whoever asks (a page, the API, the CLI)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist")
    audit.record(session, actor=actor, action=action, entity_type="campaign", entity_id=campaign_id)
    if session.get_bind().dialect.name == "postgresql":
        # JIT compiling these one-off aggregate queries costs more than it saves (~30%); the
        # per-pathway facts of a large cohort sort and hash in memory rather than on disk.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    zone = settings.zone
    on_date = campaign_date(campaign, zone)
    counts = grouped_counts(
        session, campaign=campaign, on_date=on_date, dimensions=[*FACT_DIMENSIONS, *DIMENSIONS]
    )
    if not counts["all"]:  # an empty cohort: no rows to aggregate
        counts["all"] = [Counts("", *([0] * 11))]
    funnel = _funnel(session, campaign, counts)
    decisions = _decisions(session, campaign)
    attempts = _attempt_sections(session, campaign, zone)
    return CampaignReport(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        campaign_status=str(campaign.status),
        campaign_date=on_date,
        generated_at=now or utcnow(),
        funnel=funnel,
        decisions=decisions,
        by_specialty=_group_rows(counts["specialty"]),
        by_provider=_group_rows(counts["provider"]),
        by_channel=attempts.by_channel,
        by_attempt_number=attempts.by_attempt_number,
        by_hour=attempts.by_hour,
        usage=_usage(session, campaign, settings, attempts, funnel.completed, decisions.removed),
        equity=equity_breakdowns(counts),
        notices=_notices(session, campaign),
    )


def _notices(session: Session, campaign: Campaign) -> list[NoticeRow]:
    """Notices planned, sent, failed, cancelled and in doubt, by kind (planned: still to go;
    ``sending`` counts as planned, since it has not gone yet as far as anyone knows)."""
    rows = session.execute(
        select(ContactNotice.kind, ContactNotice.status, func.count())
        .where(ContactNotice.campaign_id == campaign.id)
        .group_by(ContactNotice.kind, ContactNotice.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        state = NoticeStatus.PLANNED if status == NoticeStatus.SENDING else NoticeStatus(status)
        by_state = counts.setdefault(str(kind), {})
        by_state[state.value] = by_state.get(state.value, 0) + int(count)
    return [
        NoticeRow(
            key=kind.value,
            **{
                state.value: counts.get(kind.value, {}).get(state.value, 0)
                for state in NoticeStatus
                if state != NoticeStatus.SENDING
            },
        )
        for kind in NoticeKind
        if kind.value in counts
    ]


def _funnel(session: Session, campaign: Campaign, counts: dict[str, list[Counts]]) -> Funnel:
    everyone = counts["all"][0]
    by_outcome = {c.key: c.pathways for c in counts["outcome"]}
    # Excluded pathways are never contacted: they are counted as excluded, not as "no outcome".
    excluded_by_outcome = {c.key: c.excluded for c in counts["outcome"]}
    by_rule = {
        rule: int(count)
        for rule, count in session.execute(
            select(Exclusion.rule_id, func.count(func.distinct(Exclusion.pathway_id)))
            .join(Pathway, Pathway.id == Exclusion.pathway_id)
            .where(Pathway.cohort_id == campaign.cohort_id)
            .group_by(Exclusion.rule_id)
            .order_by(Exclusion.rule_id)
        )
    }
    return Funnel(
        cohort=everyone.pathways,
        excluded=everyone.excluded,
        excluded_by_rule=by_rule,
        eligible=everyone.pathways - everyone.excluded,
        attempted=everyone.attempted,
        answered=everyone.answered,
        identity_verified=everyone.verified,
        completed=everyone.completed,
        outcomes={str(o): by_outcome.get(str(o), 0) for o in FUNNEL_OUTCOMES},
        no_outcome_yet=by_outcome.get(UNKNOWN, 0) - excluded_by_outcome.get(UNKNOWN, 0),
    )


def _decisions(session: Session, campaign: Campaign) -> Decisions:
    rows = session.execute(
        select(ClinicalDecision.decision, ClinicalDecision.rtt_status_code, func.count())
        .join(ReviewItem, ReviewItem.id == ClinicalDecision.review_item_id)
        .where(ReviewItem.campaign_id == campaign.id, ClinicalDecision.undone_at.is_(None))
        .group_by(ClinicalDecision.decision, ClinicalDecision.rtt_status_code)
    ).all()
    counts: dict[Decision, int] = {}
    by_code: dict[str, int] = {}
    for decision, code, count in rows:
        counts[decision] = counts.get(decision, 0) + int(count)
        if decision == Decision.REMOVE:
            key = code or "none"
            by_code[key] = by_code.get(key, 0) + int(count)
    open_items = session.scalar(
        select(func.count())
        .select_from(ReviewItem)
        .where(ReviewItem.campaign_id == campaign.id, ReviewItem.status == "open")
    )
    return Decisions(
        removed=counts.get(Decision.REMOVE, 0),
        removed_by_rtt_code=dict(sorted(by_code.items())),
        kept=counts.get(Decision.KEEP, 0),
        expedited=counts.get(Decision.EXPEDITE, 0),
        called_back=counts.get(Decision.CALL_BACK, 0),
        open_review_items=int(open_items or 0),
    )


def _group_rows(counts: list[Counts]) -> list[GroupRow]:
    return [
        GroupRow(
            c.key,
            c.pathways,
            c.excluded,
            c.attempted,
            c.answered,
            c.completed,
            c.leave,
            c.worsened,
            c.removed,
        )
        for c in sorted(counts, key=lambda c: c.key)
    ]


@dataclass(frozen=True)
class _AttemptSections:
    by_channel: list[AttemptRow]
    by_attempt_number: list[AttemptRow]
    by_hour: list[AttemptRow]
    call_attempts: int
    call_minutes: int
    sms_messages: int


def _utc_hour_bucket(session: Session) -> ColumnElement[str]:
    """``YYYY-MM-DD HH`` of ``placed_at`` in UTC (SQLite stores naive UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", ContactAttempt.placed_at), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", ContactAttempt.placed_at)


def _attempt_sections(session: Session, campaign: Campaign, zone: ZoneInfo) -> _AttemptSections:
    """Attempts by channel, by attempt number and by local hour, and the billable usage.

    One pass over the campaign's attempts, grouped by channel, attempt number and UTC hour of
    each day; every measure is a count or a sum, so each section adds those few rows up. Hours
    are moved to local time here, because the UTC offset of Europe/London changes with the date.
    """
    reached = ContactAttempt.status.in_(REACHED_PROVIDER)
    # Providers bill each call by the started minute.
    minutes = (func.coalesce(ContactAttempt.duration_seconds, 0) + 59) // 60
    bucket = _utc_hour_bucket(session).label("bucket")
    keys = (ContactAttempt.channel, ContactAttempt.attempt_number, bucket)
    rows = session.execute(
        select(
            *keys,
            func.count(),
            total(flag(reached)),
            total(flag(ContactAttempt.answered_at.is_not(None))),
            total(flag(ContactAttempt.status == AttemptStatus.COMPLETED)),
            total(case((reached, minutes), else_=0)),
        )
        .where(ContactAttempt.campaign_id == campaign.id)
        .group_by(*keys)
    ).all()
    by_channel: dict[str, list[int]] = {}
    by_number: dict[int, list[int]] = {}
    by_hour: dict[int, list[int]] = {}
    usage = {"calls": 0, "minutes": 0, "sms": 0}
    for channel, number, bucket_text, *values in rows:
        measures = [int(v) for v in values[:4]]
        targets = [by_channel.setdefault(str(channel), [0] * 4)]
        targets.append(by_number.setdefault(int(number), [0] * 4))
        if bucket_text is not None:  # placed (a planned attempt has no hour yet)
            utc_hour = dt.datetime.strptime(bucket_text, "%Y-%m-%d %H").replace(tzinfo=dt.UTC)
            targets.append(by_hour.setdefault(utc_hour.astimezone(zone).hour, [0] * 4))
        for target in targets:
            for index, value in enumerate(measures):
                target[index] += value
        if channel == Channel.VOICE:
            usage["calls"] += measures[1]
            usage["minutes"] += int(values[4])
        elif channel == Channel.SMS:
            usage["sms"] += measures[1]
    return _AttemptSections(
        by_channel=[AttemptRow(key, *by_channel[key]) for key in sorted(by_channel)],
        by_attempt_number=[AttemptRow(str(key), *by_number[key]) for key in sorted(by_number)],
        by_hour=[AttemptRow(f"{hour:02d}:00", *by_hour[hour]) for hour in sorted(by_hour)],
        call_attempts=usage["calls"],
        call_minutes=usage["minutes"],
        sms_messages=usage["sms"],
    )


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _usage(
    session: Session,
    campaign: Campaign,
    settings: Settings,
    attempts: _AttemptSections,
    validated: int,
    removals: int,
) -> Usage:
    call_attempts, call_minutes = attempts.call_attempts, attempts.call_minutes
    sms_messages = attempts.sms_messages
    sms = ContactAttempt.channel == Channel.SMS
    # Every reply in an SMS conversation is one inbound text and draws one more text from us;
    # the script linter keeps each text within one segment.
    sms_replies = int(
        session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(ContactAttempt, ContactAttempt.id == Answer.contact_attempt_id)
            .where(ContactAttempt.campaign_id == campaign.id, sms)
        )
        or 0
    )
    sms_segments = sms_messages + 2 * sms_replies
    cost = (
        settings.cost_per_call_attempt * call_attempts
        + settings.cost_per_call_minute * call_minutes
        + settings.cost_per_sms_segment * sms_segments
    )
    return Usage(
        currency=settings.cost_currency,
        call_attempts=call_attempts,
        call_minutes=call_minutes,
        sms_messages=sms_messages,
        sms_segments=sms_segments,
        unit_cost_per_call_attempt=settings.cost_per_call_attempt,
        unit_cost_per_call_minute=settings.cost_per_call_minute,
        unit_cost_per_sms_segment=settings.cost_per_sms_segment,
        total_cost=_money(cost),
        validated_pathways=validated,
        removals=removals,
        cost_per_validated_pathway=_money(cost / validated) if validated else None,
        cost_per_removal=_money(cost / removals) if removals else None,
    )
