"""Every worker runs the same housekeeping at once: each ended attempt is settled by one of them,
once, and a worker never waits on another's batch (PostgreSQL; SQLite has one writer)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns import service
from app.campaigns.scheduled import expire_sms_replies, plan_follow_ups
from app.models import (
    AttemptStatus,
    CampaignStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    PathwayOutcome,
)
from tests.campaigns.test_campaigns import create
from tests.support.databases import backend

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="concurrent workers need PostgreSQL (SQLite allows one)"
)
MONDAY_8AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
PATHWAYS = 6


def _campaign_of_unanswered_calls(factory: sessionmaker[Session], channel: Channel) -> int:
    """A running campaign whose every first contact has ended unanswered (one contact each, so
    the policy is spent: the pathway is next marked unreachable)."""
    with factory() as session:
        campaign_id = create(
            session,
            pathways=PATHWAYS,
            attempt_policy={"calls": 1, "sms": False},
            calls_per_second=1.0,
        )
        service.start_campaign(session, campaign_id=campaign_id, actor="alice", now=MONDAY_8AM)
        service.transition(
            session, campaign_id=campaign_id, to=CampaignStatus.RUNNING, actor="worker"
        )
        ended = AttemptStatus.NO_ANSWER if channel is Channel.VOICE else AttemptStatus.PLACED
        session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.campaign_id == campaign_id)
            .values(
                status=ended,
                channel=channel,
                dispatched_at=MONDAY_8AM,
                placed_at=MONDAY_8AM,
            )
        )
        session.commit()
    return campaign_id


def _unreachable_written(factory: sessionmaker[Session], campaign_id: int) -> list[int]:
    """How many unreachable outcomes each pathway of the campaign has in its history."""
    with factory() as session:
        return list(
            session.scalars(
                select(func.count())
                .select_from(PathwayOutcome)
                .where(
                    PathwayOutcome.campaign_id == campaign_id,
                    PathwayOutcome.outcome == Outcome.UNREACHABLE,
                )
                .group_by(PathwayOutcome.pathway_id)
            )
        )


@pytest.mark.parametrize("channel", [Channel.VOICE, Channel.SMS])
def test_two_workers_settle_each_ended_attempt_once_and_never_wait_on_each_other(
    factory: sessionmaker[Session], channel: Channel
) -> None:
    campaign_id = _campaign_of_unanswered_calls(factory, channel)
    now = MONDAY_8AM + dt.timedelta(days=3)
    settle = plan_follow_ups if channel is Channel.VOICE else expire_sms_replies
    with factory() as first, factory() as second:
        settle(first, now=now)  # not committed yet: it holds what it took
        # Waiting on the first worker's locks would fail the second at once.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        settle(second, now=now)
        first.commit()
        second.commit()
    assert _unreachable_written(factory, campaign_id) == [1] * PATHWAYS
    with factory() as session:
        outcomes = set(
            session.scalars(
                select(Pathway.outcome)
                .join(ContactAttempt, ContactAttempt.pathway_id == Pathway.id)
                .where(ContactAttempt.campaign_id == campaign_id)
            )
        )
    assert outcomes == {Outcome.UNREACHABLE}


def test_a_pathway_a_webhook_is_writing_is_left_for_a_later_pass(
    factory: sessionmaker[Session],
) -> None:
    """A patient's answer being recorded (its transaction holds the pathway) is never overtaken
    by "unreachable" read from before it: housekeeping skips that pathway this time."""
    campaign_id = _campaign_of_unanswered_calls(factory, Channel.VOICE)
    now = MONDAY_8AM + dt.timedelta(days=3)
    with factory() as webhook, factory() as worker:
        answered = webhook.scalars(
            select(ContactAttempt.pathway_id)
            .where(ContactAttempt.campaign_id == campaign_id)
            .order_by(ContactAttempt.pathway_id)
            .limit(1)
        ).one()
        webhook.execute(update(Pathway).where(Pathway.id == answered).values(outcome=Outcome.STAY))
        worker.execute(text("SET LOCAL lock_timeout = '2s'"))
        plan_follow_ups(worker, now=now)
        worker.commit()
        webhook.commit()
    with factory() as session:
        assert session.get(Pathway, answered).outcome == Outcome.STAY  # type: ignore[union-attr]
    assert _unreachable_written(factory, campaign_id) == [1] * (PATHWAYS - 1)
