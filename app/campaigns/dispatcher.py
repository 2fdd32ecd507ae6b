"""The dispatcher's steps for one attempt: claim, check, place, record.

Every step is a guarded UPDATE carrying the fencing counter taken at the claim, and the claim and
the move to ``placing`` are committed before the provider hears of the contact. A worker whose
lease expired (it stalled, or died and was replaced) finds its fence stale and its writes refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, load_only, sessionmaker

from app.attempts import OPEN, TERMINAL, advance, advance_many
from app.campaigns.budget import Limit, RateBudget
from app.campaigns.eligibility import (
    NO_ATTEMPT_FACT,
    Block,
    attempt_fact_values,
    block_for_attempt,
    contact_number,
    lock_number,
    pathway_block,
)
from app.campaigns.planning import mark_unreachable
from app.campaigns.policy import parse_policy
from app.campaigns.sql import changed
from app.campaigns.windows import parse_windows
from app.db import statement_by_statement
from app.models import (
    AttemptStatus,
    Campaign,
    CampaignStatus,
    Channel,
    ContactAttempt,
    Pathway,
    Patient,
)
from app.telephony.provider import (
    CallRequest,
    Placed,
    Provider,
    ProviderError,
    ProviderTimeoutError,
    SmsRequest,
)

log = logging.getLogger(__name__)
A = AttemptStatus
TELEPHONY = "telephony"  # a campaign's texts go the way its calls go
# How soon a contact to a number another patient is on the phone with is tried again.
NUMBER_BUSY_RETRY = dt.timedelta(minutes=2)
# The one state each of the dispatcher's own steps starts from.
CLAIMED = frozenset({A.CLAIMED})
PLACING = frozenset({A.PLACING})


class SmsComposer(Protocol):
    """Writes the opening text of an SMS conversation from the approved script, and its state."""

    def compose(
        self, session: Session, *, attempt: ContactAttempt
    ) -> tuple[str, dict[str, Any]] | None:
        """The message body and the conversation to keep; None if the script cannot run."""
        ...


@dataclass(frozen=True)
class DispatchConfig:
    """Tunables of one worker process."""

    worker_id: str
    account_key: str
    account_calls_per_second: float
    lease: dt.timedelta = dt.timedelta(seconds=120)
    batch_size: int = 32
    concurrency: int = 8
    reconcile_after: dt.timedelta = dt.timedelta(seconds=60)
    backoff_base_seconds: float = 15.0
    backoff_cap_seconds: float = 1800.0
    # SMS providers other than the telephony one (GOV.UK Notify), each with its own account's
    # rate budget: a campaign's texts through Notify draw on Notify's limit, not Twilio's.
    sms_accounts: Mapping[str, Limit] = field(default_factory=dict)


class Result(StrEnum):
    """What happened to one claimed attempt."""

    PLACED = "placed"
    STALE = "stale"
    DEFERRED = "deferred"
    CANCELLED = "cancelled"
    RETRY = "retry"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    RELEASED = "released"


@dataclass(frozen=True)
class Claim:
    """An attempt this worker holds, and the fence that proves it."""

    attempt_id: int
    fence: int


@dataclass(frozen=True)
class DueClaim(Claim):
    """A freshly claimed attempt with its campaign's rate, so placing it needs no extra read."""

    campaign_id: int
    calls_per_second: float
    channel: Channel = Channel.VOICE
    sms_provider: str = TELEPHONY


# Storing the provider's id when a webhook has already moved the attempt past ``placing``
# (no state to change: only the id and the time), built once with bound parameters.
_RECORD_PLACED_LATE = (
    update(ContactAttempt)
    .where(
        ContactAttempt.id == bindparam("attempt_id"),
        ContactAttempt.fence == bindparam("claimed_fence"),
        ContactAttempt.status.in_(OPEN | TERMINAL),
    )
    .values(provider_sid=bindparam("sid"), placed_at=bindparam("now"), lease_expires_at=None)
    .execution_options(synchronize_session=False)
)


def claim_due(
    session: Session, *, config: DispatchConfig, now: dt.datetime, limit: int
) -> list[DueClaim]:
    """Claim up to ``limit`` due attempts of running campaigns (the caller commits at once)."""
    due = (
        select(ContactAttempt.id)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .where(
            ContactAttempt.status == A.PLANNED,
            ContactAttempt.due_at <= now,
            Campaign.status == CampaignStatus.RUNNING,
        )
        .order_by(ContactAttempt.due_at)
        .limit(limit)
        .with_for_update(of=ContactAttempt, skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = advance_many(
        session,
        to=A.CLAIMED,
        only_from=frozenset({A.PLANNED}),
        where=(ContactAttempt.id.in_(ids),),
        returning=(
            ContactAttempt.id,
            ContactAttempt.fence,
            ContactAttempt.campaign_id,
            ContactAttempt.channel,
        ),
        claimed_by=config.worker_id,
        lease_expires_at=now + config.lease,
        fence=ContactAttempt.fence + 1,
    ).all()
    campaign_ids = {row[2] for row in rows}
    campaigns = {
        campaign.id: (campaign.calls_per_second, campaign.sms_provider)
        for campaign in session.execute(
            select(Campaign.id, Campaign.calls_per_second, Campaign.sms_provider).where(
                Campaign.id.in_(campaign_ids)
            )
        )
    }
    return [
        DueClaim(
            attempt_id=attempt_id,
            fence=fence,
            campaign_id=campaign_id,
            calls_per_second=campaigns[campaign_id][0],
            channel=Channel(channel),
            sms_provider=campaigns[campaign_id][1],
        )
        for attempt_id, fence, campaign_id, channel in rows
    ]


def release(session: Session, *, claim: Claim, due_at: dt.datetime | None = None) -> bool:
    """Give a claimed attempt back to the queue (optionally due later)."""
    values: dict[str, Any] = {"claimed_by": None, "lease_expires_at": None}
    if due_at is not None:
        values["due_at"] = due_at
    return _from_claimed(session, claim=claim, to=A.PLANNED, **values)


def _from_claimed(session: Session, *, claim: Claim, to: AttemptStatus, **values: Any) -> bool:
    return advance(
        session,
        attempt_id=claim.attempt_id,
        to=to,
        only_from=CLAIMED,
        fence=claim.fence,
        **values,
    )


_PLACING_ROW = (
    select(ContactAttempt, Campaign, Pathway, Patient)
    .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
    .join(Pathway, Pathway.id == ContactAttempt.pathway_id)
    .join(Patient, Patient.id == ContactAttempt.patient_id)
    .where(ContactAttempt.id == bindparam("attempt_id"))
    # Only the columns the checks and the provider call read (the rest load if touched, as on
    # the rarer paths: an SMS opening, an unreachable patient). Four whole rows were ~90
    # columns, and describing them cost more than the query.
    .options(
        load_only(
            ContactAttempt.status,
            ContactAttempt.fence,
            ContactAttempt.channel,
            ContactAttempt.token,
            ContactAttempt.campaign_id,
            ContactAttempt.pathway_id,
            ContactAttempt.patient_id,
            # block_for_attempt asks whether the attempt's round is still open; left out, each
            # placement paid a lazy load (a round trip) for it.
            ContactAttempt.validation_round_id,
        ),
        load_only(
            Campaign.status,
            Campaign.calling_windows,
            Campaign.calls_per_second,
            Campaign.sms_provider,
        ),
        load_only(Pathway.status, Pathway.outcome, Pathway.patient_id),
        load_only(
            Patient.opted_out_at,
            Patient.date_of_death,
            Patient.mobile_phone,
            Patient.landline_phone,
        ),
    )
    # One patient's attempts are checked and moved to placing one at a time (PostgreSQL;
    # SQLite's write transactions are serial already), so two never go out together.
    .with_for_update(of=Patient)
)


@dataclass(frozen=True)
class Ready:
    """An attempt moved to ``placing``: everything the provider call needs."""

    claim: Claim
    campaign_id: int
    calls_per_second: float
    channel: Channel
    to: str
    token: str
    body: str | None
    sms_provider: str = TELEPHONY


def prepare(
    session: Session,
    *,
    claim: Claim,
    config: DispatchConfig,
    now: dt.datetime,
    composer: SmsComposer,
    rng: random.Random,
) -> Ready | Result:
    """Re-check everything at placing time; move ``claimed -> placing`` or say why not.

    Usually one guarded UPDATE checks the other rows' facts as it moves the attempt (a round
    trip fewer a placement); only a refused move asks which fact held, or whether the claim went
    stale.
    """
    row = session.execute(_PLACING_ROW, {"attempt_id": claim.attempt_id}).one()
    attempt, campaign, pathway, patient = row
    if attempt.fence != claim.fence or attempt.status != A.CLAIMED:
        return Result.STALE
    if campaign.status != CampaignStatus.RUNNING:
        release(session, claim=claim)
        return Result.RELEASED
    windows = parse_windows(campaign.calling_windows)
    if not windows.is_open(now):
        release(session, claim=claim, due_at=windows.next_open(now))
        return Result.DEFERRED
    today = dt.datetime.combine(windows.local_date(now), dt.time(0), tzinfo=windows.zone)
    sms = attempt.channel == Channel.SMS
    lock_number(session, patient=patient, sms=sms)
    to = contact_number(patient, sms=sms)
    # A text goes only through an SMS provider this worker has (sending it through another
    # would break the trust's choice), and only with words from the approved script.
    unsendable = sms and campaign.sms_provider not in (TELEPHONY, *config.sms_accounts)
    opening = composer.compose(session, attempt=attempt) if sms and not unsendable else None
    body: str | None = None
    opening_values: dict[str, Any] = {}  # a call keeps the conversation it was planned with
    if opening is not None:
        body, opening_values["conversation"] = opening

    def move_to_placing(**guarded: Any) -> bool:
        return _from_claimed(
            session,
            claim=claim,
            to=A.PLACING,
            to_number=to,
            dispatched_at=now,
            lease_expires_at=now + config.lease,
            **opening_values,
            **guarded,
        )

    def ready() -> Ready:
        assert to is not None  # a contact with no number is never moved to placing
        return Ready(
            claim=claim,
            campaign_id=campaign.id,
            calls_per_second=campaign.calls_per_second,
            channel=attempt.channel,
            to=to,
            token=attempt.token,
            body=body,
            sms_provider=campaign.sms_provider,
        )

    placeable = to is not None and (not sms or opening is not None)
    if placeable and pathway_block(pathway, patient) is None:
        # The common case in one statement: the move happens only if none of the facts that
        # would stop it holds, read under the same locks as the check below.
        values = attempt_fact_values(
            attempt=attempt, pathway=pathway, patient=patient, today_starts_at=today
        )
        if move_to_placing(guard=NO_ATTEMPT_FACT, guard_values=values):
            return ready()
    # Something stands in the way, or the claim went stale: find out which, as one check.
    block = block_for_attempt(
        session, attempt=attempt, pathway=pathway, patient=patient, today_starts_at=today
    )
    if block == Block.NUMBER_IN_FLIGHT:
        # Another patient on this phone is being called: try again shortly, not tomorrow, so
        # the household's other patients go one after another as each contact ends.
        release(session, claim=claim, due_at=now + NUMBER_BUSY_RETRY * rng.uniform(1.0, 2.0))
        return Result.DEFERRED
    if block is not None and not block.final:
        tomorrow = today + dt.timedelta(days=1, hours=rng.uniform(0, 8))
        release(session, claim=claim, due_at=windows.next_open(tomorrow.astimezone(dt.UTC)))
        return Result.DEFERRED
    if block is not None:
        _from_claimed(
            session, claim=claim, to=A.CANCELLED, error_code=block.value, lease_expires_at=None
        )
        if block == Block.NO_NUMBER:
            mark_unreachable(
                session, campaign=campaign, pathway=pathway, note="no usable number", now=now
            )
        return Result.CANCELLED
    if unsendable:
        # Failed, not cancelled, so follow-ups and review go on.
        _from_claimed(
            session,
            claim=claim,
            to=A.FAILED,
            error_code="sms-provider",
            ended_at=now,
            lease_expires_at=None,
        )
        log.warning(
            "attempt %s: SMS provider %r is not configured", attempt.id, campaign.sms_provider
        )
        return Result.FAILED
    if sms and opening is None:
        _from_claimed(
            session,
            claim=claim,
            to=A.CANCELLED,
            error_code="script_changed",
            ended_at=now,
            lease_expires_at=None,
        )
        log.warning("attempt %s: the campaign's script cannot run; not sent", attempt.id)
        return Result.CANCELLED
    # Nothing stands in the way after all (a contact in flight a moment ago has since ended),
    # unless the claim itself went stale.
    return ready() if move_to_placing() else Result.STALE


def contact(provider: Provider, ready: Ready) -> Placed:
    """Ask the provider to ring or text (the one step that reaches the outside world)."""
    if ready.channel == Channel.SMS:
        assert ready.body is not None
        return provider.send_sms(
            SmsRequest(to=ready.to, token=ready.token, body=ready.body, via=ready.sms_provider)
        )
    return provider.place_call(CallRequest(to=ready.to, token=ready.token))


def record_placed(session: Session, *, claim: Claim, sid: str, now: dt.datetime) -> Result:
    """Store the provider's id; a webhook may already have moved the attempt further on."""
    if advance(
        session,
        attempt_id=claim.attempt_id,
        to=A.PLACED,
        only_from=PLACING,
        fence=claim.fence,
        provider_sid=sid,
        placed_at=now,
        lease_expires_at=None,
    ):
        return Result.PLACED
    # A webhook may already have moved the attempt further on: keep its state.
    count = changed(
        session,
        _RECORD_PLACED_LATE,
        {"attempt_id": claim.attempt_id, "claimed_fence": claim.fence, "sid": sid, "now": now},
    )
    return Result.PLACED if count == 1 else Result.STALE


def record_failure(
    session: Session,
    *,
    claim: Claim,
    error: BaseException,
    config: DispatchConfig,
    retries_allowed: int,
    retry_count: int,
    now: dt.datetime,
    rng: random.Random,
) -> Result:
    """Decide what a failed provider call means: in doubt, retry later, or failed for good."""
    if isinstance(error, ProviderTimeoutError) or not isinstance(error, ProviderError):
        # The provider may have placed it: never retry before reconciling.
        to = A.IN_DOUBT
        values: dict[str, Any] = {
            "error_code": "timeout" if isinstance(error, ProviderTimeoutError) else "unknown",
            "lease_expires_at": now + config.reconcile_after,
        }
        result = Result.IN_DOUBT
    elif error.permanent or retry_count >= retries_allowed:
        to = A.FAILED
        values = {
            "error_code": error.code,
            "ended_at": now,
            "lease_expires_at": None,
        }
        result = Result.FAILED
    else:
        backoff = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2**retry_count)
        to = A.PLANNED
        values = {
            "error_code": error.code,
            "retry_count": retry_count + 1,
            "due_at": now + dt.timedelta(seconds=backoff * rng.uniform(0.5, 1.0)),
            "claimed_by": None,
            "lease_expires_at": None,
            "dispatched_at": None,
        }
        result = Result.RETRY
    values["error_message"] = str(error)[:500]
    moved = advance(
        session,
        attempt_id=claim.attempt_id,
        to=to,
        only_from=PLACING,
        fence=claim.fence,
        **values,
    )
    return result if moved else Result.STALE


def account_limit(config: DispatchConfig, claim: DueClaim) -> Limit:
    """The account whose rate the contact draws on: Notify's for a text through Notify."""
    if claim.channel == Channel.SMS and claim.sms_provider in config.sms_accounts:
        return config.sms_accounts[claim.sms_provider]
    return (config.account_key, config.account_calls_per_second)


def dispatch_one(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    budget: RateBudget,
    composer: SmsComposer,
    config: DispatchConfig,
    claim: DueClaim,
    clock: Callable[[], dt.datetime],
    stop: threading.Event,
    rng: random.Random,
) -> Result:
    """Take one claimed attempt through to placed, deferred, retry, failed or in doubt."""
    if stop.is_set():
        with session_factory() as session:
            release(session, claim=claim)
            session.commit()
        return Result.RELEASED
    limits = [account_limit(config, claim)]
    if claim.calls_per_second < config.account_calls_per_second:
        limits.append((f"campaign:{claim.campaign_id}", claim.calls_per_second))
    if not budget.acquire(limits, stop=stop):
        with session_factory() as session:
            release(session, claim=claim)
            session.commit()
        return Result.RELEASED
    with session_factory() as session:
        outcome = prepare(
            session, claim=claim, config=config, now=clock(), composer=composer, rng=rng
        )
        session.commit()
    if not isinstance(outcome, Ready):
        return outcome
    try:
        placed = contact(provider, outcome)
    except Exception as error:  # every failure is recorded, none is lost
        with session_factory() as session:
            attempt = session.get(ContactAttempt, claim.attempt_id)
            campaign = session.get(Campaign, outcome.campaign_id)
            assert attempt is not None and campaign is not None
            policy = parse_policy(campaign.attempt_policy)
            result = record_failure(
                session,
                claim=claim,
                error=error,
                config=config,
                retries_allowed=policy.max_retries,
                retry_count=attempt.retry_count,
                now=clock(),
                rng=rng,
            )
            session.commit()
        log.info("attempt %s: %s (%s)", claim.attempt_id, result, type(error).__name__)
        return result
    with session_factory() as session:
        # Each of record_placed's guarded UPDATEs stands alone: no transaction round trips.
        result = record_placed(
            statement_by_statement(session), claim=claim, sid=placed.sid, now=clock()
        )
        session.commit()
    if result == Result.STALE:
        log.warning(
            "attempt %s: placed after its lease was lost; reconciliation owns it", claim.attempt_id
        )
    return result
