"""``/metrics``: Prometheus text behind its own token, with the queue and the review backlog."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.main import create_app
from app.models import AttemptStatus, Campaign, CampaignStatus, Outcome
from app.outcomes.service import record_outcome
from app.web.deps import get_session
from tests.support.factories import make_pathway
from tests.support.telephony import make_attempt

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
async def metrics_client(
    settings: Settings, db_session: Session
) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    )
    application.dependency_overrides[get_session] = lambda: db_session
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    application.state.engine.dispose()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_it_counts_the_due_queue_the_contacts_in_flight_and_the_overdue_reviews(
    metrics_client: httpx.AsyncClient, db_session: Session
) -> None:
    pathway = make_pathway(db_session)
    due = make_attempt(db_session, pathway=pathway, status=AttemptStatus.PLANNED)
    campaign = db_session.get(Campaign, due.campaign_id)
    assert campaign is not None
    campaign.status = CampaignStatus.RUNNING
    due.due_at = utcnow() - dt.timedelta(minutes=10)
    make_attempt(db_session, pathway=make_pathway(db_session), status=AttemptStatus.IN_DOUBT)
    record_outcome(
        db_session,
        pathway=make_pathway(db_session),
        outcome=Outcome.WORSENED,
        now=utcnow() - dt.timedelta(days=10),
    )
    record_outcome(
        db_session,
        pathway=make_pathway(db_session),
        outcome=Outcome.UNVERIFIED,
        now=utcnow() - dt.timedelta(days=30),
    )
    db_session.flush()
    await metrics_client.get("/healthz")

    response = await metrics_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("waitlist_queue_due", ())] == 1
    assert samples[("waitlist_queue_oldest_due_seconds", ())] >= 600
    assert samples[("waitlist_contact_attempts", (("status", "planned"),))] == 1
    assert samples[("waitlist_campaigns", (("status", "running"),))] == 1
    assert samples[("waitlist_review_open", (("overdue", "true"), ("reason", "worsened")))] == 1
    assert samples[("waitlist_worklist_overdue", (("reason", "unverified"),))] == 1
    assert (
        samples[
            (
                "waitlist_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "/healthz")),
            )
        ]
        == 1
    )
    assert "token" not in response.text.lower()  # route templates, never raw callback paths


@pytest.mark.parametrize(
    "header", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
async def test_it_refuses_a_scrape_without_its_token(
    metrics_client: httpx.AsyncClient, header: dict[str, str]
) -> None:
    response = await metrics_client.get("/metrics", headers=header)

    assert response.status_code == 401
    assert "waitlist_" not in response.text


async def test_it_is_not_there_unless_a_token_is_configured(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404
