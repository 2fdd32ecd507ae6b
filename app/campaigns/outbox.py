"""Sending notices: claim what is due, check it is still wanted, send it once, record it.

A housekeeping step of every worker, like healthchecks' alert sender: a guarded UPDATE claims
the notices (``planned -> sending``, SKIP LOCKED on PostgreSQL), the claim is committed before
the provider hears of them, and each is re-checked under the claim. A worker that dies while a
notice is ``sending`` leaves it to :func:`recover_lost_notices`, which makes it ``in_doubt``: it
is never sent again (a duplicate text is worse than a missing courtesy notice).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from app import db
from app.attempts import QUEUED
from app.campaigns.budget import Limit, RateBudget
from app.campaigns.dispatcher import TELEPHONY, DispatchConfig
from app.campaigns.eligibility import block_for_pathway, contact_number
from app.campaigns.windows import parse_windows
from app.models import (
    AttemptStatus,
    Campaign,
    CampaignStatus,
    ContactAttempt,
    ContactNotice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Pathway,
    Patient,
    RoundStatus,
    ValidationRound,
)
from app.notices import advance_notice, advance_notices, extend_lease
from app.telephony.provider import Provider, ProviderError, ProviderTimeoutError, SmsRequest

log = logging.getLogger(__name__)
N = NoticeStatus
SENDING = frozenset({N.SENDING})


class NoticeWriter(Protocol):
    """Writes a notice's words from the approved script of its campaign (or patient)."""

    def notice_text(
        self, session: Session, *, campaign: Campaign, call_script_id: int | None, kind: str
    ) -> str | None:
        """The text, or None when the script has no words for ``kind`` (or cannot run)."""
        ...


class Sent(StrEnum):
    """What became of one claimed notice."""

    SENT = "sent"
    CANCELLED = "cancelled"
    DEFERRED = "deferred"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    STALE = "stale"


def claim_due_notices(
    session: Session, *, config: DispatchConfig, now: dt.datetime, limit: int
) -> list[int]:
    """Claim up to ``limit`` due notices of running campaigns (the caller commits at once)."""
    due = (
        select(ContactNotice.id)
        .join(Campaign, Campaign.id == ContactNotice.campaign_id)
        .where(
            ContactNotice.status == N.PLANNED,
            ContactNotice.due_at <= now,
            Campaign.status == CampaignStatus.RUNNING,
        )
        .order_by(ContactNotice.due_at)
        .limit(limit)
        .with_for_update(of=ContactNotice, skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = advance_notices(
        session,
        to=N.SENDING,
        only_from=frozenset({N.PLANNED}),
        where=(ContactNotice.id.in_(ids),),
        returning=(ContactNotice.id,),
        claimed_by=config.worker_id,
        lease_expires_at=now + config.lease,
        updated_at=now,
    ).all()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class Outgoing:
    """A notice checked under its claim: what the provider is asked to send."""

    notice_id: int
    to: str
    token: str
    body: str
    kind: str
    via: str


def _why_not(
    session: Session, notice: ContactNotice, pathway: Pathway, patient: Patient
) -> str | None:
    """Why the notice is no longer wanted, or None (re-checked under the claim)."""
    if pathway.outcome != Outcome.PENDING or block_for_pathway(
        session, pathway=pathway, patient=patient
    ):
        return "not_wanted"
    if notice.validation_round_id is not None:
        status = session.scalar(
            select(ValidationRound.status).where(ValidationRound.id == notice.validation_round_id)
        )
        if status != RoundStatus.OPEN:
            return "round_closed"
    attempt = (
        session.get(ContactAttempt, notice.contact_attempt_id)
        if notice.contact_attempt_id is not None
        else None
    )
    if notice.kind == NoticeKind.PRE_CALL and (attempt is None or attempt.status not in QUEUED):
        return "call_gone"  # the call went (or was cancelled) before its announcement
    if notice.kind == NoticeKind.REMINDER and (
        attempt is None or attempt.status != AttemptStatus.PLACED
    ):
        return "replied"  # the patient replied (or the text failed, or was cancelled)
    return None


def prepare_notice(
    session: Session,
    *,
    notice_id: int,
    config: DispatchConfig,
    writer: NoticeWriter,
    now: dt.datetime,
) -> Outgoing | Sent:
    """Re-check a claimed notice: still wanted, inside the windows, words to send."""
    notice = session.get(ContactNotice, notice_id)
    if notice is None or notice.status != N.SENDING or notice.claimed_by != config.worker_id:
        return Sent.STALE
    campaign = session.get(Campaign, notice.campaign_id)
    pathway = session.get(Pathway, notice.pathway_id)
    patient = session.get(Patient, notice.patient_id)
    assert campaign is not None and pathway is not None and patient is not None

    def cancel(reason: str) -> Sent:
        advance_notice(
            session,
            notice_id=notice_id,
            to=N.CANCELLED,
            only_from=SENDING,
            error_code=reason[:16],
            lease_expires_at=None,
        )
        return Sent.CANCELLED

    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        return cancel("campaign_ended")
    windows = parse_windows(campaign.calling_windows)
    if campaign.status != CampaignStatus.RUNNING or not windows.is_open(now):
        later = now if campaign.status != CampaignStatus.RUNNING else windows.next_open(now)
        advance_notice(
            session,
            notice_id=notice_id,
            to=N.PLANNED,
            only_from=SENDING,
            due_at=later,
            claimed_by=None,
            lease_expires_at=None,
        )
        return Sent.DEFERRED
    reason = _why_not(session, notice, pathway, patient)
    if reason is not None:
        return cancel(reason)
    mobile = contact_number(patient, sms=True)
    if mobile is None:
        return cancel("no_number")
    script_id = (
        session.scalar(
            select(ContactAttempt.call_script_id).where(
                ContactAttempt.id == notice.contact_attempt_id
            )
        )
        if notice.contact_attempt_id is not None
        else None
    )
    body = writer.notice_text(
        session, campaign=campaign, call_script_id=script_id, kind=notice.kind.value
    )
    if body is None:
        return cancel("no_wording")
    if campaign.sms_provider not in (TELEPHONY, *config.sms_accounts):
        advance_notice(
            session,
            notice_id=notice_id,
            to=N.FAILED,
            only_from=SENDING,
            error_code="sms-provider",
            lease_expires_at=None,
        )
        return Sent.FAILED
    # The lease runs from now, the provider being asked next; refused if it was lost meanwhile.
    if not extend_lease(
        session, notice_id=notice_id, worker_id=config.worker_id, until=now + config.lease
    ):
        return Sent.STALE
    return Outgoing(notice_id, mobile, notice.token, body, notice.kind.value, campaign.sms_provider)


def _limit(config: DispatchConfig, via: str) -> Limit:
    """The account a notice's text draws on: Notify's for a text through Notify."""
    return config.sms_accounts.get(via, (config.account_key, config.account_calls_per_second))


def send_due_notices(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    budget: RateBudget,
    writer: NoticeWriter,
    config: DispatchConfig,
    clock: Callable[[], dt.datetime],
    stop: threading.Event,
    limit: int = 20,
) -> dict[str, int]:
    """Send the notices that are due, each at most once; counts by what became of them."""
    with session_factory() as session:
        ids = claim_due_notices(session, config=config, now=clock(), limit=limit)
        session.commit()
    counts: dict[str, int] = {}
    for position, notice_id in enumerate(ids):
        if stop.is_set():
            _release(session_factory, ids[position:], config=config)
            break
        result = _send_one(
            session_factory=session_factory,
            provider=provider,
            budget=budget,
            writer=writer,
            config=config,
            notice_id=notice_id,
            clock=clock,
            stop=stop,
        )
        counts[result.value] = counts.get(result.value, 0) + 1
    return counts


def _release(
    session_factory: sessionmaker[Session], ids: list[int], *, config: DispatchConfig
) -> None:
    """Give claimed notices back unsent (the worker is stopping)."""
    with session_factory() as session:
        advance_notices(
            session,
            to=N.PLANNED,
            only_from=SENDING,
            where=(ContactNotice.id.in_(ids), ContactNotice.claimed_by == config.worker_id),
            claimed_by=None,
            lease_expires_at=None,
        )
        session.commit()


def _send_one(
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    budget: RateBudget,
    writer: NoticeWriter,
    config: DispatchConfig,
    notice_id: int,
    clock: Callable[[], dt.datetime],
    stop: threading.Event,
) -> Sent:
    with session_factory() as session:
        outgoing = prepare_notice(
            session, notice_id=notice_id, config=config, writer=writer, now=clock()
        )
        session.commit()
    if not isinstance(outgoing, Outgoing):
        return outgoing
    if not budget.acquire([_limit(config, outgoing.via)], stop=stop):
        _release(session_factory, [notice_id], config=config)
        return Sent.DEFERRED
    request = SmsRequest(
        to=outgoing.to,
        token=outgoing.token,
        body=outgoing.body,
        kind=outgoing.kind,
        via=outgoing.via,
    )
    try:
        placed = provider.send_sms(request)
    except Exception as error:  # every failure is recorded; none is sent again
        doubt = isinstance(error, ProviderTimeoutError) or not isinstance(error, ProviderError)
        code = error.code if isinstance(error, ProviderError) and error.code else "unknown"
        with session_factory() as session:
            advance_notice(
                session,
                notice_id=notice_id,
                to=N.IN_DOUBT if doubt else N.FAILED,
                only_from=SENDING,
                error_code=code[:16],
                to_number=outgoing.to,
                lease_expires_at=None,
            )
            session.commit()
        log.info("notice %s: not sent (%s)", notice_id, type(error).__name__)
        return Sent.IN_DOUBT if doubt else Sent.FAILED
    with session_factory() as session:
        moved = advance_notice(
            session,
            notice_id=notice_id,
            to=N.SENT,
            only_from=SENDING,
            provider_sid=placed.sid,
            sent_at=clock(),
            to_number=outgoing.to,
            lease_expires_at=None,
        )
        session.commit()
    return Sent.SENT if moved else Sent.STALE


def recover_lost_notices(session: Session, *, now: dt.datetime) -> int:
    """Notices a dead or stalled worker left ``sending``: in doubt, and never sent again."""
    lost = and_(ContactNotice.lease_expires_at.is_not(None), ContactNotice.lease_expires_at < now)
    return db.changed(
        advance_notices(
            session,
            to=N.IN_DOUBT,
            only_from=SENDING,
            where=(lost,),
            error_code="lease_expired",
            lease_expires_at=None,
            updated_at=now,
        )
    )
