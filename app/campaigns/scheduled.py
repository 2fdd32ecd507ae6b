"""Periodic work of the dispatcher: leases, reconciliation, follow-ups, campaign start and end.

Any number of workers may run these at once: every change is a guarded UPDATE (or an insert under
a unique key), so two workers doing the same sweep change each row at most once.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Row, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from app import db
from app.attempts import (
    AT_PROVIDER,
    ATTEMPT_STATUS,
    NOT_YET_PLACED,
    PROVIDER_FINAL,
    UNANSWERED,
    advance,
    advance_many,
)
from app.campaigns.dispatcher import Claim, DispatchConfig
from app.campaigns.notices import cancel_planned_notices, reply_wait_starts
from app.campaigns.planning import mark_unreachable, plan_follow_up, plan_identity_retry
from app.campaigns.policy import parse_policy
from app.campaigns.sql import changed
from app.models import (
    AttemptStatus,
    Campaign,
    CampaignStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    Patient,
    RoundStatus,
    ValidationRound,
    ValidationSchedule,
)
from app.telephony.provider import Provider, ProviderContact, ProviderError

log = logging.getLogger(__name__)
A = AttemptStatus
# A connected call that ended without any outcome counts as unanswered after this long.
SILENT_COMPLETION = dt.timedelta(minutes=15)


def _attempt_state(contact: ProviderContact) -> AttemptStatus:
    """The provider's account of a contact as an attempt state, by the same table the webhooks
    use (``app.attempts.ATTEMPT_STATUS``); an unknown state is still under way."""
    return ATTEMPT_STATUS.get(contact.state, A.PLACED) if contact.state else A.PLACED


def start_due_campaigns(session: Session, *, now: dt.datetime) -> int:
    """``scheduled -> running`` for campaigns whose start time has come."""
    return changed(
        session,
        update(Campaign)
        .where(
            Campaign.status == CampaignStatus.SCHEDULED,
            or_(Campaign.starts_at.is_(None), Campaign.starts_at <= now),
        )
        .values(status=CampaignStatus.RUNNING, started_at=now)
        .execution_options(synchronize_session=False),
    )


def recover_expired_leases(
    session: Session, *, now: dt.datetime, config: DispatchConfig
) -> tuple[int, int]:
    """A dead or stalled worker's attempts: claimed ones go back, placing ones become in doubt.

    Both bump the fence, so the old worker's late writes are refused.
    """
    expired = and_(
        ContactAttempt.lease_expires_at.is_not(None), ContactAttempt.lease_expires_at < now
    )
    released = advance_many(
        session,
        to=A.PLANNED,
        only_from=frozenset({A.CLAIMED}),
        where=(expired,),
        claimed_by=None,
        lease_expires_at=None,
        fence=ContactAttempt.fence + 1,
    )
    doubted = advance_many(
        session,
        to=A.IN_DOUBT,
        only_from=frozenset({A.PLACING}),
        where=(expired,),
        error_code="lease_expired",
        lease_expires_at=now + config.reconcile_after,
        fence=ContactAttempt.fence + 1,
    )
    return db.changed(released), db.changed(doubted)


@dataclass(frozen=True)
class Doubt:
    """An in-doubt attempt taken for reconciliation."""

    claim: Claim
    channel: Channel
    to: str | None
    since: dt.datetime | None
    sid: str | None


def reconcile_in_doubt(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    config: DispatchConfig,
    clock: Callable[[], dt.datetime],
    limit: int = 50,
) -> int:
    """Ask the provider whether each in-doubt attempt was placed; only then may it be retried."""
    with session_factory() as session:
        now = clock()
        due = (
            select(ContactAttempt.id)
            .where(ContactAttempt.status == A.IN_DOUBT, ContactAttempt.lease_expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.id.in_(due), ContactAttempt.status == A.IN_DOUBT)
            .values(
                fence=ContactAttempt.fence + 1,
                claimed_by=config.worker_id,
                lease_expires_at=now + config.lease,
            )
            .returning(
                ContactAttempt.id,
                ContactAttempt.fence,
                ContactAttempt.channel,
                ContactAttempt.to_number,
                ContactAttempt.dispatched_at,
                ContactAttempt.provider_sid,
            )
            .execution_options(synchronize_session=False)
        ).all()
        session.commit()
    doubts = [Doubt(Claim(r[0], r[1]), Channel(r[2]), r[3], r[4], r[5]) for r in rows]
    for doubt in doubts:
        _reconcile_one(session_factory=session_factory, provider=provider, doubt=doubt, clock=clock)
    return len(doubts)


def _settle(session: Session, doubt: Doubt, to: AttemptStatus, **values: Any) -> None:
    """Move an in-doubt attempt on, unless another pass has taken it over since."""
    advance(
        session,
        attempt_id=doubt.claim.attempt_id,
        to=to,
        only_from=frozenset({A.IN_DOUBT}),
        fence=doubt.claim.fence,
        **values,
    )


def _reconcile_one(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    doubt: Doubt,
    clock: Callable[[], dt.datetime],
) -> None:
    found = None
    if doubt.to is not None and doubt.since is not None:
        try:
            found = provider.find_contact(
                channel=doubt.channel.value,
                to=doubt.to,
                since=doubt.since - dt.timedelta(minutes=1),
                sid=doubt.sid,
            )
        except ProviderError as error:
            log.warning(
                "attempt %s: reconciliation failed (%s); retrying later",
                doubt.claim.attempt_id,
                error.code,
            )
            return  # the reconcile lease expires and another pass tries again
    now = clock()
    with session_factory() as session:
        if found is not None:
            state = _attempt_state(found)
            owner = session.scalar(
                select(ContactAttempt.id).where(ContactAttempt.provider_sid == found.sid)
            )
            if owner in (None, doubt.claim.attempt_id):
                _settle(
                    session,
                    doubt,
                    state,
                    provider_sid=found.sid,
                    placed_at=found.created_at or now,
                    lease_expires_at=None,
                    error_code=None,
                )
                session.commit()
                return
        # Not placed: it is safe to try again, as a fresh claim, inside the window.
        _settle(
            session,
            doubt,
            A.PLANNED,
            claimed_by=None,
            lease_expires_at=None,
            dispatched_at=None,
            retry_count=ContactAttempt.retry_count + 1,
            due_at=now,
        )
        session.commit()


# Twilio ends any call after four hours; a voice attempt quiet for longer than this lost its
# webhooks (our endpoint was down, or Twilio gave up), so we ask Twilio what became of it.
STALE_CALL = dt.timedelta(hours=2)
# How long before the same stale attempt is asked about again (the provider may be down).
STALE_RECHECK = dt.timedelta(minutes=15)


def reconcile_stale_calls(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    clock: Callable[[], dt.datetime],
    stale_after: dt.timedelta = STALE_CALL,
    limit: int = 50,
) -> int:
    """Voice attempts left ``placed``/``in_progress`` with no webhook for ``stale_after``.

    Each is checked out for ``STALE_RECHECK`` (a guarded UPDATE of ``lease_expires_at``, which a
    placed attempt does not otherwise use), so concurrent workers ask about it once; then the
    provider's final state is applied forward-only, as a webhook would have been. A contact the
    provider has no record of ends ``failed`` (``lost``), so follow-ups and completion go on.
    """
    now = clock()
    stale = and_(
        ContactAttempt.channel == Channel.VOICE,
        ContactAttempt.status.in_(AT_PROVIDER),
        ContactAttempt.updated_at < now - stale_after,
        or_(ContactAttempt.lease_expires_at.is_(None), ContactAttempt.lease_expires_at < now),
    )
    with session_factory() as session:
        ids = list(session.scalars(select(ContactAttempt.id).where(stale).limit(limit)))
        taken = []
        for attempt_id in ids:
            row = session.execute(
                update(ContactAttempt)
                .where(ContactAttempt.id == attempt_id, stale)
                .values(lease_expires_at=now + STALE_RECHECK)
                .returning(
                    ContactAttempt.id,
                    ContactAttempt.to_number,
                    ContactAttempt.dispatched_at,
                    ContactAttempt.provider_sid,
                )
                .execution_options(synchronize_session=False)
            ).first()
            if row is not None:
                taken.append(row)
        session.commit()
    for attempt_id, to, since, sid in taken:
        try:
            found = provider.find_contact(
                channel="voice",
                to=to or "",
                since=(since or now - stale_after) - dt.timedelta(minutes=1),
                sid=sid,
            )
        except ProviderError as error:
            log.warning("attempt %s: stale-call check failed (%s)", attempt_id, error.code)
            continue
        state = A.FAILED if found is None else _attempt_state(found)
        if state not in PROVIDER_FINAL:
            continue  # still ringing or talking by the provider's account: ask again later
        with session_factory() as session:
            advance(
                session,
                attempt_id=attempt_id,
                to=state,
                only_from=AT_PROVIDER,
                ended_at=now,
                lease_expires_at=None,
                updated_at=now,
                error_code="lost" if found is None else "no_webhook",
            )
            session.commit()
        log.info("attempt %s: reconciled a stale call as %s", attempt_id, state)
    return len(taken)


def _round_still_open() -> Any:
    """The attempt's validation round is still open (or the attempt predates rounds).

    A pathway is pending again in a later round; an earlier round's last unanswered attempt must
    not then be followed up, nor its SMS expire into the new round.
    """
    return or_(
        ContactAttempt.validation_round_id.is_(None),
        exists().where(
            ValidationRound.id == ContactAttempt.validation_round_id,
            ValidationRound.status == RoundStatus.OPEN,
        ),
    )


# Every worker runs the same housekeeping at once: each takes the ended attempts it settles,
# and their pathways, for its own transaction (PostgreSQL; SQLite runs one writer at a time),
# and leaves those another worker or a webhook holds for a later pass. Without it two workers
# settled the same attempts together, the second waiting seconds on the first's row locks and
# then writing every outcome again; and a patient's answer arriving as a pathway was settled
# could be overtaken by "unreachable" read from before it.
_TAKE_OWN: dict[str, Any] = {"of": (ContactAttempt, Pathway), "skip_locked": True}


class _NextAttemptPlanner(Protocol):
    def __call__(
        self,
        session: Session,
        *,
        campaign: Campaign,
        pathway: Pathway,
        patient: Patient,
        attempts: list[ContactAttempt],
        now: dt.datetime,
        rng: random.Random | None = None,
    ) -> ContactAttempt | None: ...


def _plan_each(
    session: Session,
    rows: Sequence[Row[ContactAttempt, Campaign, Pathway, Patient]],
    planner: _NextAttemptPlanner,
    *,
    now: dt.datetime,
    rng: random.Random | None,
    what: str,
) -> int:
    """Plan the next attempt after each of ``rows`` with ``planner``, given the pathway's whole
    history in its campaign; a worker that loses the race to another (the unique attempt
    number) leaves that one's plan and goes on."""
    planned = 0
    for attempt, campaign, pathway, patient in rows:
        history = list(
            session.scalars(
                select(ContactAttempt).where(
                    ContactAttempt.campaign_id == campaign.id,
                    ContactAttempt.pathway_id == pathway.id,
                )
            )
        )
        try:
            with session.begin_nested():
                if planner(
                    session,
                    campaign=campaign,
                    pathway=pathway,
                    patient=patient,
                    attempts=history,
                    now=now,
                    rng=rng,
                ):
                    planned += 1
        except IntegrityError:
            log.info("attempt %s: another worker planned its %s", attempt.id, what)
    return planned


def plan_follow_ups(
    session: Session, *, now: dt.datetime, limit: int = 200, rng: random.Random | None = None
) -> int:
    """Plan the next attempt after each unanswered one whose pathway is still undecided."""
    later = aliased(ContactAttempt)
    has_later = exists().where(
        later.campaign_id == ContactAttempt.campaign_id,
        later.pathway_id == ContactAttempt.pathway_id,
        later.attempt_number > ContactAttempt.attempt_number,
    )
    unanswered = or_(
        ContactAttempt.status.in_(UNANSWERED),
        and_(
            ContactAttempt.status == A.COMPLETED,
            ContactAttempt.channel == Channel.VOICE,
            ContactAttempt.updated_at < now - SILENT_COMPLETION,
        ),
    )
    rows = session.execute(
        select(ContactAttempt, Campaign, Pathway, Patient)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .join(Pathway, Pathway.id == ContactAttempt.pathway_id)
        .join(Patient, Patient.id == ContactAttempt.patient_id)
        .where(
            unanswered,
            ~has_later,
            Pathway.outcome == Outcome.PENDING,
            _round_still_open(),
            Campaign.status.in_((CampaignStatus.RUNNING, CampaignStatus.PAUSED)),
        )
        .limit(limit)
        .with_for_update(**_TAKE_OWN)
    ).all()
    return _plan_each(session, rows, plan_follow_up, now=now, rng=rng, what="follow-up")


def plan_identity_retries(
    session: Session, *, now: dt.datetime, limit: int = 200, rng: random.Random | None = None
) -> int:
    """Plan another call, at another time of day, after each call that ended unverified."""
    later = aliased(ContactAttempt)
    rows = session.execute(
        select(ContactAttempt, Campaign, Pathway, Patient)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .join(Pathway, Pathway.id == ContactAttempt.pathway_id)
        .join(Patient, Patient.id == ContactAttempt.patient_id)
        .where(
            ContactAttempt.status == A.COMPLETED,
            ContactAttempt.channel == Channel.VOICE,
            Pathway.outcome == Outcome.UNVERIFIED,
            Campaign.status.in_((CampaignStatus.RUNNING, CampaignStatus.PAUSED)),
            ~exists().where(
                later.campaign_id == ContactAttempt.campaign_id,
                later.pathway_id == ContactAttempt.pathway_id,
                later.attempt_number > ContactAttempt.attempt_number,
            ),
        )
        .limit(limit)
        .with_for_update(**_TAKE_OWN)
    ).all()
    unverified = [
        row
        for row in rows
        if (row[0].conversation or {}).get("outcome") == Outcome.UNVERIFIED.value
    ]
    return _plan_each(session, unverified, plan_identity_retry, now=now, rng=rng, what="retry")


def expire_sms_replies(session: Session, *, now: dt.datetime, limit: int = 200) -> int:
    """After the closing SMS's reply time, an undecided pathway is unreachable.

    With reminders in the policy, the time counts from the last reminder, and not at all while
    one is still to go (``app.campaigns.notices.reply_wait_starts``).
    """
    rows = session.execute(
        select(ContactAttempt, Campaign, Pathway)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .join(Pathway, Pathway.id == ContactAttempt.pathway_id)
        .where(
            ContactAttempt.channel == Channel.SMS,
            ContactAttempt.status.in_(AT_PROVIDER | {A.COMPLETED}),
            Pathway.outcome == Outcome.PENDING,
            _round_still_open(),
        )
        .limit(limit)
        .with_for_update(**_TAKE_OWN)
    ).all()
    marked = 0
    for attempt, campaign, pathway in rows:
        hours = parse_policy(campaign.attempt_policy).sms_reply_hours
        sent = attempt.placed_at or attempt.dispatched_at
        if sent is not None:
            sent = reply_wait_starts(session, attempt=attempt, campaign=campaign, sent=sent)
        if sent is not None and sent + dt.timedelta(hours=hours) <= now:
            mark_unreachable(
                session, campaign=campaign, pathway=pathway, note="no reply to SMS", now=now
            )
            marked += 1
    return marked


def _campaign_is_busy(campaign_id: int) -> Any:
    """Something queued or in flight (a contact still ringing for an undecided pathway)."""
    return or_(
        exists().where(
            ContactAttempt.campaign_id == campaign_id,
            ContactAttempt.status.in_(NOT_YET_PLACED),
        ),
        exists().where(
            ContactAttempt.campaign_id == campaign_id,
            ContactAttempt.status.in_(AT_PROVIDER),
            exists().where(
                Pathway.id == ContactAttempt.pathway_id, Pathway.outcome == Outcome.PENDING
            ),
        ),
    )


def _campaign_awaits_follow_up(campaign_id: int) -> Any:
    """An undecided pathway whose last attempt has ended: a follow-up is still to be planned."""
    later = aliased(ContactAttempt)
    return exists().where(
        ContactAttempt.campaign_id == campaign_id,
        ContactAttempt.status.in_(UNANSWERED | {A.COMPLETED}),
        exists().where(Pathway.id == ContactAttempt.pathway_id, Pathway.outcome == Outcome.PENDING),
        _round_still_open(),
        ~exists().where(
            later.campaign_id == ContactAttempt.campaign_id,
            later.pathway_id == ContactAttempt.pathway_id,
            later.attempt_number > ContactAttempt.attempt_number,
        ),
    )


def has_work_left(session: Session, *, campaign_id: int) -> bool:
    """Whether anything is queued, in flight or awaiting a follow-up (so it is not finished)."""
    return bool(
        session.scalar(select(_campaign_is_busy(campaign_id)))
        or session.scalar(select(_campaign_awaits_follow_up(campaign_id)))
    )


def complete_finished_campaigns(session: Session, *, now: dt.datetime) -> int:
    """``running -> completed`` once nothing is queued, in flight or awaiting a follow-up.

    One campaign at a time, cheapest question first: a single statement over every campaign
    made PostgreSQL anti-join the whole attempt table (380 ms at 100,000 attempts, on every
    worker's housekeeping pass), where "anything queued?" is an index probe.
    """
    completed = 0
    # A schedule's standing campaign never completes: tomorrow's selection feeds it again.
    standing = exists().where(ValidationSchedule.campaign_id == Campaign.id)
    running = session.scalars(
        select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING, ~standing)
    )
    for campaign_id in list(running):
        if session.scalar(select(_campaign_is_busy(campaign_id))):
            continue
        if session.scalar(select(_campaign_awaits_follow_up(campaign_id))):
            continue
        completed += changed(
            session,
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                Campaign.status == CampaignStatus.RUNNING,
                # Asked again in the UPDATE: another worker may have planned an attempt since.
                ~_campaign_is_busy(campaign_id),
                ~_campaign_awaits_follow_up(campaign_id),
            )
            .values(status=CampaignStatus.COMPLETED, finished_at=now)
            .execution_options(synchronize_session=False),
        )
        if completed:
            # Nothing is left for a notice to announce or remind of.
            cancel_planned_notices(session, campaign_id=campaign_id, reason="campaign_ended")
    return completed
