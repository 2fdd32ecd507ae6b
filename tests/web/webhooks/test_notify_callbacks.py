"""Notify's callbacks: bearer-token checked, stored once, read into the same SMS conversation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttemptStatus, Channel, NoticeStatus, Patient, WebhookEvent
from tests.support.notices import make_notice
from tests.support.notify_server import API_KEY, TEMPLATES, FakeNotify, fake_notify
from tests.support.settings import make_settings
from tests.support.telephony import make_attempt, make_reachable_pathway

TOKEN = "notify-callback-bearer-token-for-tests"


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with fake_notify() as server:
        yield server


@pytest.fixture
def settings(database_url: str, notify: FakeNotify) -> Settings:
    return make_settings(
        database_url,
        notify_api_key=SecretStr(API_KEY),
        notify_base_url=notify.base_url,
        notify_templates=TEMPLATES,
        notify_callback_token=SecretStr(TOKEN),
    )


def receipt(token: str, status: str, notification_id: str | None = None) -> dict[str, Any]:
    return {
        "id": notification_id or str(uuid.uuid4()),
        "reference": token,
        "to": "+447700900123",
        "status": status,
        "created_at": "2026-12-01T10:00:00.000000Z",
        "completed_at": "2026-12-01T10:00:05.000000Z",
        "sent_at": "2026-12-01T10:00:01.000000Z",
        "notification_type": "sms",
        "template_id": TEMPLATES["opening"],
        "template_version": 1,
    }


async def post(
    client: httpx.AsyncClient, path: str, payload: Any, *, token: str | None = TOKEN
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.post(f"/webhooks/notify/{path}", json=payload, headers=headers)


def events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(WebhookEvent)) or 0


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("", 401), ("wrong-token-0123456789", 403)]
)
@pytest.mark.parametrize("path", ["status", "received-text"])
async def test_a_callback_without_the_right_bearer_token_writes_nothing(
    client: httpx.AsyncClient,
    db_session: Session,
    notify: FakeNotify,
    token: str | None,
    status: int,
    path: str,
) -> None:
    pathway = make_reachable_pathway(db_session, mobile_phone="+447700900601")
    attempt = make_attempt(db_session, pathway=pathway, channel=Channel.SMS)
    before = events(db_session)
    payload = (
        receipt(attempt.token, "permanent-failure")
        if path == "status"
        else FakeNotify.callback_received("+447700900601", "STOP")
    )

    response = await post(client, path, payload, token=token)

    assert response.status_code == status
    assert events(db_session) == before
    db_session.refresh(attempt)
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None and patient.opted_out_at is None
    assert attempt.status is AttemptStatus.PLACING
    assert notify.sent == []


async def test_a_body_that_is_not_a_json_object_is_refused_with_a_reason(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    before = events(db_session)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    broken = await client.post("/webhooks/notify/status", content=b"{not json", headers=headers)
    listed = await post(client, "status", ["a", "list"])
    assert (broken.status_code, listed.status_code) == (400, 400)
    assert "JSON" in broken.json()["detail"]
    assert events(db_session) == before


async def test_a_delivery_receipt_records_the_notification_and_a_duplicate_changes_nothing(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_reachable_pathway(db_session))
    attempt.channel = Channel.SMS
    db_session.flush()
    payload = receipt(attempt.token, "delivered")

    first = await post(client, "status", payload)
    again = await post(client, "status", payload)

    assert (first.status_code, again.status_code) == (204, 204)
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.PLACED
    assert attempt.provider_sid == payload["id"]
    stored = db_session.scalars(
        select(WebhookEvent).where(WebhookEvent.contact_attempt_id == attempt.id)
    ).all()
    assert [(e.source, e.kind) for e in stored] == [("notify", "sms-status")]
    assert stored[0].payload["status"] == "delivered"


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("permanent-failure", "notify-permanent"),
        ("temporary-failure", "notify-temporary"),
        ("technical-failure", "notify-technical"),
    ],
)
async def test_a_failed_text_ends_the_attempt_before_the_patient_replies_only(
    client: httpx.AsyncClient, db_session: Session, word: str, code: str
) -> None:
    waiting = make_attempt(
        db_session, pathway=make_reachable_pathway(db_session), channel=Channel.SMS
    )
    replied = make_attempt(
        db_session,
        pathway=make_reachable_pathway(db_session),
        channel=Channel.SMS,
        status=AttemptStatus.IN_PROGRESS,
    )

    await post(client, "status", receipt(waiting.token, word))
    await post(client, "status", receipt(f"{replied.token}.1", word))

    db_session.refresh(waiting)
    db_session.refresh(replied)
    assert (waiting.status, waiting.error_code) == (AttemptStatus.FAILED, code)
    assert replied.status is AttemptStatus.IN_PROGRESS  # the patient's reply shows it works


async def test_a_receipt_for_no_attempt_of_ours_is_kept_and_changes_nothing(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    response = await post(client, "status", receipt("no-such-token", "delivered"))
    assert response.status_code == 204
    kinds = db_session.scalars(select(WebhookEvent.kind).where(WebhookEvent.source == "notify"))
    assert list(kinds) == ["sms-status-unknown"]


async def test_stop_through_notify_opts_the_number_out_and_is_confirmed_once(
    client: httpx.AsyncClient, db_session: Session, notify: FakeNotify
) -> None:
    first = make_reachable_pathway(db_session, mobile_phone="+447700900602")
    relative = make_reachable_pathway(db_session, landline_phone="+447700900602")
    planned = make_attempt(db_session, pathway=relative, status=AttemptStatus.PLANNED)
    stop = FakeNotify.callback_received("+447700900602", "Stop.")

    response = await post(client, "received-text", stop)
    again = await post(client, "received-text", stop)

    assert (response.status_code, again.status_code) == (204, 204)
    for pathway in (first, relative):
        patient = db_session.get(Patient, pathway.patient_id)
        assert patient is not None
        db_session.refresh(patient)
        assert patient.opted_out_at is not None
    db_session.refresh(planned)
    assert planned.status is AttemptStatus.CANCELLED
    [confirmation] = notify.sent  # Notify confirms nothing itself: we do, once
    assert confirmation["phone_number"] == "+447700900602"
    assert confirmation["template"]["id"] == TEMPLATES["courtesy"]
    assert "no more automated messages" in confirmation["body"]


async def test_a_stranger_is_answered_politely_and_told_nothing(
    client: httpx.AsyncClient, db_session: Session, notify: FakeNotify
) -> None:
    response = await post(
        client, "received-text", FakeNotify.callback_received("+447700900603", "Who is this?")
    )
    assert response.status_code == 204
    [answer] = notify.sent
    assert answer["template"]["id"] == TEMPLATES["courtesy"]
    assert answer["reference"] is None
    assert "cannot answer questions" in answer["body"]
    kinds = db_session.scalars(select(WebhookEvent.kind).where(WebhookEvent.source == "notify"))
    assert list(kinds) == ["sms-unknown"]


async def test_nothing_is_texted_after_an_opt_out(
    client: httpx.AsyncClient, db_session: Session, notify: FakeNotify
) -> None:
    make_reachable_pathway(db_session, mobile_phone="+447700900604")
    await post(client, "received-text", FakeNotify.callback_received("+447700900604", "STOP"))
    await post(client, "received-text", FakeNotify.callback_received("+447700900604", "hello?"))
    assert len(notify.sent) == 1  # the STOP confirmation only
    stored = db_session.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.kind == "sms")
    )
    assert stored == 2


async def test_a_receipt_for_a_notice_settles_one_in_doubt_and_answers_204(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    call = make_attempt(db_session, pathway=make_reachable_pathway(db_session))
    notice = make_notice(db_session, attempt=call, status=NoticeStatus.IN_DOUBT)
    payload = receipt(notice.token, "delivered")

    response = await post(client, "status", payload)

    assert response.status_code == 204
    db_session.refresh(notice)
    assert (notice.status, notice.provider_sid) == (NoticeStatus.SENT, payload["id"])
    kinds = db_session.scalars(select(WebhookEvent.kind).where(WebhookEvent.source == "notify"))
    assert list(kinds) == ["notice-status"]
