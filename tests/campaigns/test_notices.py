"""Notices: the pre-call text before a round's first call, reminders before "unreachable",
each sent at most once from the outbox, never to someone who should no longer get it."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns import outbox, service
from app.campaigns.budget import LocalBudget
from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.notices import plan_reminders, pre_call_due
from app.campaigns.planning import plan_campaign
from app.campaigns.policy import parse_policy
from app.campaigns.scheduled import (
    complete_finished_campaigns,
    expire_sms_replies,
    start_due_campaigns,
)
from app.campaigns.schedules import create_schedule, run_due_schedules
from app.campaigns.windows import parse_windows
from app.config import Settings
from app.conversations.webhooks import on_inbound_sms
from app.db import make_engine, make_session_factory
from app.errors import InvalidInputError
from app.flows import load_registry
from app.models import (
    Answer,
    AttemptStatus,
    Channel,
    ContactAttempt,
    ContactNotice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Pathway,
    Patient,
)
from app.telephony.events import from_twilio_inbound
from app.telephony.provider import ProviderTimeoutError
from tests.campaigns.support import (
    ALWAYS_OPEN,
    RecordingProvider,
    make_campaign,
    make_worker,
    script_composer,
)
from tests.campaigns.test_dispatcher import plan
from tests.support.databases import backend
from tests.support.factories import make_cohort, make_pathway
from tests.support.statements import counting_statements

N = NoticeStatus
MONDAY_8AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # GMT in November
WEEKDAYS = {
    "timezone": "Europe/London",
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def config(worker_id: str = "alice-worker", lease: float = 120) -> DispatchConfig:
    return DispatchConfig(
        worker_id=worker_id,
        account_key="test",
        account_calls_per_second=1000.0,
        lease=dt.timedelta(seconds=lease),
    )


def send(
    factory: sessionmaker[Session],
    provider: RecordingProvider,
    *,
    at: dt.datetime,
    worker_id: str = "alice-worker",
) -> dict[str, int]:
    return outbox.send_due_notices(
        session_factory=factory,
        provider=provider,
        budget=LocalBudget(),
        writer=script_composer(),
        config=config(worker_id),
        clock=lambda: at,
        stop=threading.Event(),
    )


def notices(session: Session) -> list[ContactNotice]:
    return list(session.scalars(select(ContactNotice).order_by(ContactNotice.id)))


# -- planning the pre-call text ------------------------------------------------------------


def test_planning_announces_each_first_call_to_a_patient_with_a_mobile_only(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, windows=WEEKDAYS, calls_per_second=0.01)
    texted = make_pathway(db_session, cohort=cohort)
    landline = make_pathway(
        db_session, cohort=cohort, mobile_phone=None, landline_phone="+441134960001"
    )
    make_pathway(db_session, cohort=cohort, mobile_phone=None)  # no number: unreachable

    report = plan_campaign(db_session, campaign=campaign, now=MONDAY_8AM, rng=random.Random(3))

    assert report.planned == 2 and report.unreachable == 1
    [notice] = notices(db_session)
    call = db_session.get(ContactAttempt, notice.contact_attempt_id)
    assert call is not None and call.pathway_id == texted.id != landline.id
    patient = db_session.get(Patient, texted.patient_id)
    assert patient is not None
    assert (notice.kind, notice.status, notice.sequence) == (NoticeKind.PRE_CALL, N.PLANNED, 1)
    assert notice.to_number == patient.mobile_phone
    assert notice.validation_round_id == call.validation_round_id is not None
    windows = parse_windows(WEEKDAYS)
    assert windows.is_open(notice.due_at) and MONDAY_8AM <= notice.due_at < call.due_at
    assert len(notice.token) >= 32


def test_a_script_without_notices_plans_none(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, real_script=False)
    make_pathway(db_session, cohort=cohort)
    plan_campaign(db_session, campaign=campaign, now=MONDAY_8AM)
    assert notices(db_session) == []


@pytest.mark.parametrize(
    ("call_at", "expected"),
    [
        # Wednesday 10:00 -> Tuesday 10:00, a day before, inside the windows.
        (
            dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC),
        ),
        # Tuesday 09:10 -> Monday 09:10.
        (
            dt.datetime(2026, 11, 24, 9, 10, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 23, 9, 10, tzinfo=dt.UTC),
        ),
        # Monday 11:00, sooner than a day: as soon as the windows open, never in the past.
        (
            dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_the_pre_call_text_goes_a_day_before_inside_the_windows_and_never_in_the_past(
    call_at: dt.datetime, expected: dt.datetime
) -> None:
    assert pre_call_due(parse_windows(WEEKDAYS), call_at=call_at, now=MONDAY_8AM) == expected


def test_a_call_after_a_closed_day_is_announced_on_the_last_open_day_before_it() -> None:
    # A Monday call: the Sunday and Saturday before are closed, so the Friday before it.
    windows = parse_windows(WEEKDAYS)
    monday_call = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    due = pre_call_due(windows, call_at=monday_call, now=MONDAY_8AM)
    assert due == dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # the Friday before
    assert windows.is_open(due) and due < monday_call


def test_a_schedules_daily_run_announces_the_first_call_of_each_new_round(
    db_session: Session, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    overdue = (MONDAY_8AM - dt.timedelta(weeks=13)).date()
    texted = make_pathway(db_session, cohort=cohort, clock_start_date=overdue)
    make_pathway(
        db_session,
        cohort=cohort,
        clock_start_date=overdue,
        mobile_phone=None,
        landline_phone="+441134960003",
    )
    create_schedule(
        db_session,
        registry=load_registry(settings.flows_path),
        name="Rolling",
        cohort_id=cohort.id,
        flow_id="standard-validation",
        provider_name="simulator",
        account_calls_per_second=5.0,
        calling_windows=ALWAYS_OPEN,
        simulated=True,
        window_days=0,
        created_by="test",
        now=MONDAY_8AM,
    )
    start_due_campaigns(db_session, now=MONDAY_8AM)

    [run] = run_due_schedules(db_session, now=MONDAY_8AM)

    assert run.planned == 2
    [notice] = notices(db_session)
    call = db_session.get(ContactAttempt, notice.contact_attempt_id)
    assert call is not None and call.pathway_id == texted.id
    assert notice.validation_round_id == call.validation_round_id is not None
    assert MONDAY_8AM <= notice.due_at <= call.due_at


# -- sending -----------------------------------------------------------------------------------


def seed_pre_call(factory: sessionmaker[Session], **patient: object) -> tuple[int, int]:
    """A running always-open campaign with one planned first call and its pre-call notice."""
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        make_pathway(session, cohort=cohort, **patient)
        plan_campaign(session, campaign=campaign, now=MONDAY_8AM)
        [notice] = [n for n in notices(session) if n.campaign_id == campaign.id]
        session.commit()
        return campaign.id, notice.id


def test_a_due_pre_call_text_is_sent_once_with_the_approved_words_and_nothing_clinical(
    factory: sessionmaker[Session],
) -> None:
    _, notice_id = seed_pre_call(factory, given_name="Christabel", specialty_name="Urology")
    provider = RecordingProvider()

    assert send(factory, provider, at=MONDAY_8AM) == {"sent": 1}
    assert send(factory, provider, at=MONDAY_8AM + dt.timedelta(hours=1)) == {}

    [text] = provider.contacts
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None
        assert (notice.status, notice.provider_sid, notice.sent_at) == (
            N.SENT,
            text.sid,
            MONDAY_8AM,
        )
        call = session.get(ContactAttempt, notice.contact_attempt_id)
        assert call is not None and call.status == AttemptStatus.PLANNED  # the call is its own
    assert (text.channel, text.token, text.to) == ("sms", notice.token, notice.to_number)
    assert text.body is not None
    assert "Example Hospital" in text.body and "0113 496 0000" in text.body
    assert "Christabel" not in text.body and "Urology" not in text.body and "1956" not in text.body


def test_the_worker_sends_the_pre_call_text_in_its_housekeeping_before_it_rings(
    factory: sessionmaker[Session],
) -> None:
    _, notice_id = seed_pre_call(factory)
    provider = RecordingProvider(clock=lambda: MONDAY_8AM)
    worker = make_worker(factory, provider, clock=lambda: MONDAY_8AM)

    stats = worker.run(once=True)

    assert [contact.channel for contact in provider.contacts] == ["sms", "voice"]
    assert stats.notices == {"sent": 1}
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None and notice.status == N.SENT
        assert provider.contacts[0].token == notice.token


def _opt_out(session: Session, pathway: Pathway, patient: Patient) -> None:
    patient.opted_out_at = MONDAY_8AM


def _decide(session: Session, pathway: Pathway, patient: Patient) -> None:
    pathway.outcome = Outcome.STAY


def _call_went(session: Session, pathway: Pathway, patient: Patient) -> None:
    for call in session.scalars(select(ContactAttempt)):
        call.status = AttemptStatus.COMPLETED


def _lose_mobile(session: Session, pathway: Pathway, patient: Patient) -> None:
    patient.mobile_phone, patient.landline_phone = None, "+441134960002"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_opt_out, "not_wanted"),
        (_decide, "not_wanted"),
        (_call_went, "call_gone"),
        (_lose_mobile, "no_number"),
    ],
)
def test_a_notice_no_longer_wanted_is_cancelled_not_sent(
    factory: sessionmaker[Session],
    change: Callable[[Session, Pathway, Patient], None],
    reason: str,
) -> None:
    _, notice_id = seed_pre_call(factory)
    with factory() as session:
        pathway = session.scalars(select(Pathway)).one()
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None
        change(session, pathway, patient)
        session.commit()
    provider = RecordingProvider()

    assert send(factory, provider, at=MONDAY_8AM) == {"cancelled": 1}

    assert provider.contacts == []
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None and (notice.status, notice.error_code) == (N.CANCELLED, reason)


def test_a_cancelled_campaign_sends_no_notices_and_a_paused_one_keeps_them(
    factory: sessionmaker[Session],
) -> None:
    cancelled_id, cancelled_notice = seed_pre_call(factory)
    paused_id, paused_notice = seed_pre_call(factory)
    with factory() as session:
        service.cancel_campaign(session, campaign_id=cancelled_id, actor="alice")
        service.pause_campaign(session, campaign_id=paused_id, actor="alice")
        session.commit()
    provider = RecordingProvider()

    assert send(factory, provider, at=MONDAY_8AM) == {}

    assert provider.contacts == []
    with factory() as session:
        cancelled = session.get(ContactNotice, cancelled_notice)
        assert cancelled is not None
        assert (cancelled.status, cancelled.error_code) == (N.CANCELLED, "campaign_cancel")
        assert session.get(ContactNotice, paused_notice).status == N.PLANNED  # type: ignore[union-attr]


def test_a_notice_due_outside_the_windows_waits_for_them(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort, windows=WEEKDAYS)
        make_pathway(session, cohort=cohort)
        plan_campaign(session, campaign=campaign, now=MONDAY_8AM)
        [notice] = notices(session)
        notice.due_at = MONDAY_8AM - dt.timedelta(hours=12)  # as if planned for a closed time
        session.commit()
    provider = RecordingProvider()

    assert send(factory, provider, at=MONDAY_8AM) == {"deferred": 1}

    with factory() as session:
        [notice] = notices(session)
        opens = parse_windows(WEEKDAYS).next_open(MONDAY_8AM)
        assert (notice.status, notice.due_at) == (N.PLANNED, opens)
    assert provider.contacts == []


def test_two_workers_claiming_the_same_notices_send_each_once(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        for _ in range(6):
            make_pathway(session, cohort=cohort)
        plan_campaign(session, campaign=campaign, now=MONDAY_8AM)
        session.commit()
        first = outbox.claim_due_notices(session, config=config("alice"), now=MONDAY_8AM, limit=4)
        session.commit()
        second = outbox.claim_due_notices(session, config=config("bob"), now=MONDAY_8AM, limit=10)
        session.commit()
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
    provider = RecordingProvider()
    for worker, ids in (("alice", first), ("bob", second)):
        for notice_id in ids:
            outbox._send_one(
                session_factory=factory,
                provider=provider,
                budget=LocalBudget(),
                writer=script_composer(),
                config=config(worker),
                notice_id=notice_id,
                clock=lambda: MONDAY_8AM,
                stop=threading.Event(),
            )
    # Another worker's claim is not this worker's to send: charlie sends nothing.
    charlie = outbox.prepare_notice
    with factory() as session:
        assert (
            charlie(
                session,
                notice_id=first[0],
                config=config("charlie"),
                writer=script_composer(),
                now=MONDAY_8AM,
            )
            == outbox.Sent.STALE
        )
        assert {n.status for n in notices(session)} == {N.SENT}
    tokens = Counter(provider.tokens())
    assert len(tokens) == 6 and max(tokens.values()) == 1


@pytest.mark.skipif(backend() != "postgresql", reason="concurrent claims need PostgreSQL")
def test_workers_sending_at_once_on_postgres_send_each_notice_once(
    factory: sessionmaker[Session], committed_url: str
) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        for _ in range(30):
            make_pathway(session, cohort=cohort)
        plan_campaign(session, campaign=campaign, now=MONDAY_8AM)
        session.commit()
    provider = RecordingProvider(latency=0.002)
    engines = [make_engine(committed_url) for _ in range(3)]
    threads = [
        threading.Thread(
            target=send,
            args=(make_session_factory(engine), provider),
            kwargs={"at": MONDAY_8AM, "worker_id": f"worker-{index}"},
        )
        for index, engine in enumerate(engines)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    send(factory, provider, at=MONDAY_8AM)  # whatever the first claims left (limit 20 each)
    tokens = Counter(provider.tokens())
    assert len(tokens) == 30 and max(tokens.values()) == 1


def test_a_crash_mid_send_leaves_the_notice_in_doubt_and_it_is_never_sent_again(
    factory: sessionmaker[Session],
) -> None:
    _, notice_id = seed_pre_call(factory)
    with factory() as session:  # alice claims it, and dies before the provider answers
        assert outbox.claim_due_notices(session, config=config(), now=MONDAY_8AM, limit=5)
        session.commit()
    later = MONDAY_8AM + dt.timedelta(minutes=5)
    provider = RecordingProvider()

    assert send(factory, provider, at=later, worker_id="bob") == {}
    with factory() as session:
        assert outbox.recover_lost_notices(session, now=later) == 1
        session.commit()
    assert send(factory, provider, at=later + dt.timedelta(hours=1), worker_id="bob") == {}

    assert provider.contacts == []
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None
        assert (notice.status, notice.error_code) == (N.IN_DOUBT, "lease_expired")


def test_a_provider_timeout_leaves_the_notice_in_doubt_and_it_is_not_retried(
    factory: sessionmaker[Session],
) -> None:
    _, notice_id = seed_pre_call(factory)
    provider = RecordingProvider(failures=[ProviderTimeoutError("no answer")], placed_anyway=True)

    assert send(factory, provider, at=MONDAY_8AM) == {"in_doubt": 1}
    assert send(factory, provider, at=MONDAY_8AM + dt.timedelta(hours=2)) == {}

    assert len(provider.contacts) == 1  # it went once (the provider had it); never twice
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None and (notice.status, notice.error_code) == (N.IN_DOUBT, "timeout")


# -- reminders ---------------------------------------------------------------------------------


def seed_closing_sms(
    factory: sessionmaker[Session], *, policy: dict[str, object], sent_at: dt.datetime
) -> tuple[int, int]:
    """A running campaign whose closing SMS went at ``sent_at`` and has had no reply."""
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort, policy=policy)
        pathway = make_pathway(session, cohort=cohort)
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None
        sms = plan(
            session,
            campaign.id,
            pathway,
            number=4,
            channel=Channel.SMS,
            placed_at=sent_at,
            dispatched_at=sent_at,
            to_number=patient.mobile_phone,
            conversation=_opening(session, campaign.id, pathway.id),
        )
        sms.status = AttemptStatus.PLACED
        session.commit()
        return sms.id, pathway.id


def _opening(session: Session, campaign_id: int, pathway_id: int) -> dict[str, object]:
    """The conversation an SMS opening leaves (composed by the dispatcher's own composer)."""
    probe = ContactAttempt(
        campaign_id=campaign_id, pathway_id=pathway_id, call_script_id=None, channel=Channel.SMS
    )
    opening = script_composer().compose(session, attempt=probe)
    assert opening is not None
    return opening[1]


def outcome(factory: sessionmaker[Session], pathway_id: int) -> Outcome:
    with factory() as session:
        pathway = session.get(Pathway, pathway_id)
        assert pathway is not None
        return pathway.outcome


def expire(factory: sessionmaker[Session], at: dt.datetime) -> None:
    with factory() as session:
        expire_sms_replies(session, now=at)
        session.commit()


def test_reminders_go_on_the_policy_days_and_the_reply_wait_counts_from_the_last(
    factory: sessionmaker[Session],
) -> None:
    sms_id, pathway_id = seed_closing_sms(
        factory, policy={"reminder_days": [3, 6], "sms_reply_hours": 48}, sent_at=MONDAY_8AM
    )
    day = dt.timedelta(days=1)
    with factory() as session:
        assert plan_reminders(session, now=MONDAY_8AM) == 2
        assert plan_reminders(session, now=MONDAY_8AM) == 0  # once per text
        session.commit()
        planned = notices(session)
    assert [(n.kind, n.sequence, n.due_at) for n in planned] == [
        (NoticeKind.REMINDER, 1, MONDAY_8AM + 3 * day),
        (NoticeKind.REMINDER, 2, MONDAY_8AM + 6 * day),
    ]
    assert {n.contact_attempt_id for n in planned} == {sms_id}
    provider = RecordingProvider()

    expire(factory, MONDAY_8AM + 2 * day + dt.timedelta(hours=1))  # 48 hours gone, reminders not
    assert outcome(factory, pathway_id) == Outcome.PENDING
    assert send(factory, provider, at=MONDAY_8AM + 3 * day) == {"sent": 1}
    expire(factory, MONDAY_8AM + 5 * day + dt.timedelta(hours=1))  # 48 h after the first
    assert outcome(factory, pathway_id) == Outcome.PENDING
    assert send(factory, provider, at=MONDAY_8AM + 6 * day) == {"sent": 1}
    expire(factory, MONDAY_8AM + 6 * day + dt.timedelta(hours=47))
    assert outcome(factory, pathway_id) == Outcome.PENDING
    expire(factory, MONDAY_8AM + 6 * day + dt.timedelta(hours=49))
    assert outcome(factory, pathway_id) == Outcome.UNREACHABLE

    bodies = [text.body or "" for text in provider.contacts]
    assert len(bodies) == 2 and all(b.startswith("Reminder from Example Hospital") for b in bodies)


def test_without_reminders_the_reply_wait_counts_from_the_closing_sms(
    factory: sessionmaker[Session],
) -> None:
    _, pathway_id = seed_closing_sms(factory, policy={"sms_reply_hours": 48}, sent_at=MONDAY_8AM)
    with factory() as session:
        assert plan_reminders(session, now=MONDAY_8AM) == 0
    expire(factory, MONDAY_8AM + dt.timedelta(hours=49))
    assert outcome(factory, pathway_id) == Outcome.UNREACHABLE


def test_a_reply_to_a_reminder_continues_the_conversation_and_the_rest_are_cancelled(
    factory: sessionmaker[Session],
) -> None:
    sms_id, pathway_id = seed_closing_sms(
        factory, policy={"reminder_days": [3, 6]}, sent_at=MONDAY_8AM
    )
    day = dt.timedelta(days=1)
    with factory() as session:
        plan_reminders(session, now=MONDAY_8AM)
        session.commit()
    provider = RecordingProvider()
    assert send(factory, provider, at=MONDAY_8AM + 3 * day) == {"sent": 1}
    with factory() as session:
        pathway = session.get(Pathway, pathway_id)
        assert pathway is not None
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None and patient.mobile_phone is not None
        params = {
            "MessageSid": "SM" + "7" * 32,
            "From": patient.mobile_phone,
            "Body": patient.date_of_birth.strftime("%d%m%Y"),
        }
        on_inbound_sms(
            session, text=from_twilio_inbound(params), raw={}, context=script_composer().context
        )
        session.commit()

    assert send(factory, provider, at=MONDAY_8AM + 6 * day) == {"cancelled": 1}

    with factory() as session:
        attempt = session.get(ContactAttempt, sms_id)
        assert attempt is not None and attempt.status == AttemptStatus.IN_PROGRESS
        answers = session.scalars(select(Answer).where(Answer.contact_attempt_id == sms_id)).all()
        assert answers, "the reply was an answer in the open conversation"
        assert [(n.status, n.error_code) for n in notices(session)] == [
            (N.SENT, None),
            (N.CANCELLED, "replied"),
        ]
    assert len(provider.contacts) == 1


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"sms": False, "reminder_days": [3]}, "needs sms: true"),
        ({"reminder_days": [6, 3]}, "increasing order"),
        ({"reminder_days": [0]}, "between 1 and 14"),
        ({"reminder_days": [1, 2, 3, 4]}, "up to 3"),
        ({"reminder_days": "3"}, "list of whole days"),
    ],
)
def test_a_policy_with_impossible_reminders_is_refused(
    policy: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_policy(policy)


def test_reminder_days_are_kept_with_the_policy() -> None:
    policy = parse_policy({"reminder_days": [3, 6]})
    assert policy.reminder_days == (3, 6)
    assert policy.as_json()["reminder_days"] == [3, 6]
    assert parse_policy(policy.as_json()) == policy
    assert parse_policy({}).reminder_days == ()  # none unless a campaign asks for them


def test_a_completed_campaign_cancels_the_notices_it_left(factory: sessionmaker[Session]) -> None:
    campaign_id, notice_id = seed_pre_call(factory)
    with factory() as session:
        for call in session.scalars(select(ContactAttempt)):
            call.status = AttemptStatus.CANCELLED
        session.commit()
    with factory() as session:
        assert complete_finished_campaigns(session, now=MONDAY_8AM) == 1
        session.commit()
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None and notice.status == N.CANCELLED
        assert notice.error_code == "campaign_ended" and notice.campaign_id == campaign_id


def test_a_notice_claimed_just_before_its_campaign_was_cancelled_is_not_sent(
    factory: sessionmaker[Session],
) -> None:
    campaign_id, notice_id = seed_pre_call(factory)
    with factory() as session:
        [claimed] = outbox.claim_due_notices(session, config=config(), now=MONDAY_8AM, limit=5)
        session.commit()
        service.cancel_campaign(session, campaign_id=campaign_id, actor="alice")
        session.commit()
    provider = RecordingProvider()

    result = outbox._send_one(
        session_factory=factory,
        provider=provider,
        budget=LocalBudget(),
        writer=script_composer(),
        config=config(),
        notice_id=claimed,
        clock=lambda: MONDAY_8AM,
        stop=threading.Event(),
    )

    assert result == outbox.Sent.CANCELLED and provider.contacts == []
    with factory() as session:
        notice = session.get(ContactNotice, notice_id)
        assert notice is not None
        assert (notice.status, notice.error_code) == (N.CANCELLED, "campaign_ended")


def test_planning_texts_each_first_call_from_what_it_wrote_without_reading_the_calls_back(
    db_session: Session,
) -> None:
    """Reading the campaign's planned calls back, a batch of rounds at a time, cost a scan of the
    whole campaign per batch on PostgreSQL: quadratic, 135 s for a national day. The texts are
    planned from the ids the insert returns instead."""
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, windows=WEEKDAYS, calls_per_second=0.01)
    pathways = [make_pathway(db_session, cohort=cohort) for _ in range(5)]

    with counting_statements() as counter:
        report = plan_campaign(db_session, campaign=campaign, now=MONDAY_8AM, rng=random.Random(5))

    assert report.planned == 5
    calls = {c.id: c for c in db_session.scalars(select(ContactAttempt))}
    texts = notices(db_session)
    assert sorted(n.pathway_id for n in texts) == sorted(p.id for p in pathways)
    for notice in texts:
        assert notice.contact_attempt_id is not None
        call = calls[notice.contact_attempt_id]
        assert (call.pathway_id, call.validation_round_id) == (
            notice.pathway_id,
            notice.validation_round_id,
        )
        assert notice.due_at < call.due_at
    read_back = [s for (_, s) in counter.statements if s.startswith("SELECT contact_attempt.")]
    assert read_back == []
