from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns import service
from app.campaigns.planning import band_of
from app.campaigns.scheduled import expire_sms_replies, plan_follow_ups
from app.campaigns.windows import parse_windows
from app.errors import ConflictError, InvalidInputError
from app.models import AttemptStatus, Campaign, CampaignStatus, Channel, ContactAttempt, Outcome
from tests.campaigns.support import ALWAYS_OPEN, make_script
from tests.support.factories import make_cohort, make_pathway

MONDAY_8AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
WINDOWS = parse_windows(None)
WEEKDAYS = {"mon": [["09:00", "17:00"]]}


def create(session: Session, **fields: object) -> int:
    cohort = make_cohort(session)
    for _ in range(int(fields.pop("pathways", 0))):  # type: ignore[call-overload]
        make_pathway(session, cohort=cohort)
    values: dict[str, object] = {
        "name": "Orthopaedics autumn",
        "cohort_id": cohort.id,
        "call_script_id": make_script(session, approved=bool(fields.pop("approved", True))).id,
        "provider_name": fields.pop("provider_name", "twilio"),
        "account_calls_per_second": 5.0,
        "timezone": "Europe/London",
        "created_by": "alice",
    }
    values.update(fields)
    return service.create_campaign(session, **values).id  # type: ignore[arg-type]


def test_a_real_campaign_refuses_an_unapproved_script(db_session: Session) -> None:
    with pytest.raises(InvalidInputError, match="not approved"):
        create(db_session, approved=False)


def test_only_a_simulated_campaign_may_be_always_open(db_session: Session) -> None:
    with pytest.raises(InvalidInputError, match="always-open"):
        create(db_session, calling_windows=ALWAYS_OPEN)
    with pytest.raises(InvalidInputError, match="simulator"):
        create(db_session, simulated=True, calling_windows=ALWAYS_OPEN)
    assert create(
        db_session, simulated=True, provider_name="simulator", calling_windows=ALWAYS_OPEN
    )


def test_transitions_are_guarded(db_session: Session) -> None:
    campaign_id = create(db_session)
    with pytest.raises(ConflictError, match="cannot become paused"):
        service.pause_campaign(db_session, campaign_id=campaign_id, actor="alice")
    service.start_campaign(db_session, campaign_id=campaign_id, actor="alice", now=MONDAY_8AM)
    service.transition(db_session, campaign_id=campaign_id, to=CampaignStatus.RUNNING, actor="w")
    service.pause_campaign(db_session, campaign_id=campaign_id, actor="alice")
    service.resume_campaign(db_session, campaign_id=campaign_id, actor="alice")
    service.cancel_campaign(db_session, campaign_id=campaign_id, actor="alice")
    with pytest.raises(ConflictError):
        service.resume_campaign(db_session, campaign_id=campaign_id, actor="alice")


def test_starting_plans_one_first_call_per_pathway_inside_the_windows(db_session: Session) -> None:
    campaign_id = create(db_session, pathways=40, calls_per_second=0.002)
    service.start_campaign(
        db_session, campaign_id=campaign_id, actor="alice", now=MONDAY_8AM, rng=random.Random(1)
    )
    attempts = list(
        db_session.scalars(select(ContactAttempt).where(ContactAttempt.campaign_id == campaign_id))
    )
    assert len(attempts) == 40
    assert {a.attempt_number for a in attempts} == {1}
    assert all(WINDOWS.is_open(a.due_at) for a in attempts)
    assert len({a.token for a in attempts}) == 40 and min(len(a.token) for a in attempts) >= 32
    # 0.002 calls/s over ten hours is ~57 a day at 80%: the first day is full, not overfilled.
    days = {WINDOWS.local_date(a.due_at) for a in attempts}
    assert days == {dt.date(2026, 11, 23)}


def test_unanswered_calls_are_followed_up_then_texted_then_marked_unreachable(
    db_session: Session,
) -> None:
    campaign_id = create(db_session, pathways=1)
    service.start_campaign(db_session, campaign_id=campaign_id, actor="alice", now=MONDAY_8AM)
    service.transition(db_session, campaign_id=campaign_id, to=CampaignStatus.RUNNING, actor="w")
    now = MONDAY_8AM
    for _ in range(3):
        latest = db_session.scalars(
            select(ContactAttempt).order_by(ContactAttempt.attempt_number.desc())
        ).first()
        assert latest is not None
        latest.status = AttemptStatus.NO_ANSWER
        latest.dispatched_at = latest.due_at
        now = latest.due_at + dt.timedelta(minutes=1)
        db_session.flush()
        plan_follow_ups(db_session, now=now, rng=random.Random(2))
    attempts = list(
        db_session.scalars(select(ContactAttempt).order_by(ContactAttempt.attempt_number))
    )
    assert [a.channel for a in attempts] == [Channel.VOICE] * 3 + [Channel.SMS]
    calls = [a.due_at for a in attempts[:3]]
    assert len({WINDOWS.local_date(at) for at in calls}) == 3
    assert len({band_of(WINDOWS, at) for at in calls[1:]}) == 2
    assert all(b - a >= dt.timedelta(hours=4) for a, b in itertools.pairwise(calls))
    sms = attempts[3]
    sms.status, sms.placed_at = AttemptStatus.PLACED, sms.due_at
    db_session.flush()
    expire_sms_replies(db_session, now=sms.due_at + dt.timedelta(hours=49))
    [row] = service.unreachable_pathways(db_session, campaign_id=campaign_id)
    assert row.attempts == 4 and row.note == "no reply to SMS"
    report = service.campaign_status(db_session, campaign_id=campaign_id)
    assert report.outcomes == {Outcome.UNREACHABLE.value: 1} and report.unreachable == 1


def test_a_campaign_keeps_the_time_zone_of_the_settings_it_was_made_under(
    db_session: Session,
) -> None:
    made_in_dublin = create(db_session, timezone="Europe/Dublin")
    named = create(
        db_session,
        timezone="Europe/Dublin",
        calling_windows={"timezone": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]]}},
    )

    windows = [db_session.get_one(Campaign, id_).calling_windows for id_ in (made_in_dublin, named)]
    assert [w["timezone"] for w in windows] == ["Europe/Dublin", "Europe/London"]
    assert parse_windows(windows[0]).zone.key == "Europe/Dublin"
    assert windows[0]["weekly"]["sat"] == [["10:00", "16:00"]]  # the usual hours


def test_an_unknown_time_zone_is_refused_with_a_clear_error(db_session: Session) -> None:
    with pytest.raises(InvalidInputError, match="unknown time zone 'Mars/Olympus'"):
        create(db_session, calling_windows={"timezone": "Mars/Olympus", "weekly": WEEKDAYS})
