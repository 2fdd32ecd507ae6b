"""Only requests signed for our public URL get in; a refused request writes nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttemptStatus, WebhookEvent
from app.telephony.signature import SIGNATURE_HEADER, compute_signature
from tests.support.factories import make_pathway
from tests.support.telephony import call_sid, make_attempt, post_signed, status_params


def _events(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(WebhookEvent)) or 0


async def test_it_rejects_a_bad_signature_and_writes_nothing(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    before = _events(db_session)

    response = await post_signed(
        client,
        settings,
        f"/webhooks/twilio/status/{attempt.token}",
        status_params(call_sid(), "completed", 3),
        signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )

    assert response.status_code == 403
    assert _events(db_session) == before
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.PLACING


async def test_it_rejects_a_missing_signature(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))

    response = await client.post(
        f"/webhooks/twilio/status/{attempt.token}", data=status_params(call_sid(), "ringing", 1)
    )

    assert response.status_code == 403


async def test_it_rejects_a_request_signed_for_the_proxys_inner_url(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    # Behind a proxy the app sees http://testserver; Twilio signed the public https URL.
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    path = f"/webhooks/twilio/status/{attempt.token}"
    params = status_params(call_sid(), "ringing", 1)
    inner = compute_signature(settings.webhook_auth_token, "http://testserver" + path, params)

    refused = await client.post(path, data=params, headers={SIGNATURE_HEADER: inner})
    accepted = await post_signed(client, settings, path, params)

    assert refused.status_code == 403
    assert accepted.status_code == 200


async def test_a_signature_made_with_another_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    path = f"/webhooks/twilio/status/{attempt.token}"
    params = status_params(call_sid(), "ringing", 1)
    forged = compute_signature("not-our-token", settings.public_base_url + path, params)

    response = await post_signed(client, settings, path, params, signature=forged)

    assert response.status_code == 403


async def test_the_query_string_is_part_of_what_is_signed(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    params = status_params(call_sid(), "ringing", 1)
    signed_for = f"/webhooks/twilio/status/{attempt.token}?a=1"
    signature = compute_signature(
        settings.webhook_auth_token, settings.public_base_url + signed_for, params
    )

    response = await client.post(
        f"/webhooks/twilio/status/{attempt.token}?a=2",
        data=params,
        headers={SIGNATURE_HEADER: signature},
    )

    assert response.status_code == 403


async def test_every_webhook_is_listed_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    for path in (
        "/webhooks/twilio/voice/{token}",
        "/webhooks/twilio/voice/{token}/gather",
        "/webhooks/twilio/status/{token}",
        "/webhooks/twilio/amd/{token}",
        "/webhooks/twilio/sms-status/{token}",
        "/webhooks/twilio/sms",
    ):
        assert "post" in paths[path]


async def test_a_trailing_slash_is_not_redirected(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))

    response = await post_signed(
        client,
        settings,
        f"/webhooks/twilio/status/{attempt.token}/",
        status_params(call_sid(), "ringing", 1),
    )

    assert response.status_code == 404
