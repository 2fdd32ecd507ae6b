from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AttemptStatus, AuditEvent, Campaign, CampaignStatus, Outcome, Role
from app.users.tokens import issue_api_token
from tests.support.campaign_factories import make_attempt, make_campaign, make_outcome
from tests.support.factories import make_cohort, make_pathway
from tests.support.users import make_service_account


def bearer(session: Session, role: Role) -> dict[str, str]:
    account = make_service_account(session, username=f"job-{role.value}", role=role)
    token = issue_api_token(session, user=account, name="campaign tests")
    return {"Authorization": f"Bearer {token.value}"}


def running_campaign_with_progress(session: Session) -> Campaign:
    """Three pathways: one answered (stay), one unreachable after two calls, one still due."""
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort, name="Orthopaedics <autumn>")
    stayed, unreachable, waiting = (make_pathway(session, cohort=cohort) for _ in range(3))
    make_attempt(session, campaign=campaign, pathway=stayed, answered=True)
    make_outcome(session, campaign=campaign, pathway=stayed, outcome=Outcome.STAY)
    for number in (1, 2):
        make_attempt(
            session,
            campaign=campaign,
            pathway=unreachable,
            attempt_number=number,
            status=AttemptStatus.NO_ANSWER,
        )
    make_outcome(session, campaign=campaign, pathway=unreachable, outcome=Outcome.UNREACHABLE)
    make_attempt(
        session, campaign=campaign, pathway=waiting, status=AttemptStatus.PLANNED, placed_at=None
    )
    return campaign


async def test_the_api_answers_nothing_without_a_token(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    db_session.commit()
    for path in (
        "/campaigns",
        f"/campaigns/{campaign.id}",
        f"/campaigns/{campaign.id}/unreachable",
    ):
        assert (await client.get(f"/api/v1{path}")).status_code == 401
    assert (await client.post(f"/api/v1/campaigns/{campaign.id}/pause")).status_code == 401
    assert (await client.post("/api/v1/campaigns", json={})).status_code == 401


async def test_any_staff_role_reads_the_list_and_status_with_their_counts(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    headers = bearer(db_session, Role.CLINICIAN)

    listed = await client.get("/api/v1/campaigns", headers=headers)
    status = await client.get(f"/api/v1/campaigns/{campaign.id}", headers=headers)

    assert listed.status_code == 200, listed.text
    line = next(c for c in listed.json() if c["id"] == campaign.id)
    assert line["name"] == "Orthopaedics <autumn>"
    assert (line["pathways_in_cohort"], line["pathways_with_outcome"]) == (3, 2)
    assert (line["attempts"], line["attempts_finished"]) == (4, 3)
    body = status.json()
    assert body["status"] == "running"
    assert body["attempts"] == {"completed": 1, "no_answer": 2, "planned": 1}
    assert body["outcomes"] == {"pending": 1, "stay": 1, "unreachable": 1}
    assert body["unreachable"] == 1


async def test_the_unreachable_list_is_audited_per_pathway(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    headers = bearer(db_session, Role.CLINICIAN)

    response = await client.get(f"/api/v1/campaigns/{campaign.id}/unreachable", headers=headers)

    rows = response.json()
    assert [row["attempts"] for row in rows] == [2]
    audited = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "pathway.list_unreachable")
    ).all()
    assert [event.pathway_id for event in audited] == [rows[0]["pathway_id"]]
    assert audited[0].actor == "job-clinician"


async def test_a_clinician_cannot_steer_a_campaign_and_a_coordinator_can(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    clinician, coordinator = (
        bearer(db_session, Role.CLINICIAN),
        bearer(db_session, Role.COORDINATOR),
    )
    db_session.commit()

    refused = await client.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=clinician)
    paused = await client.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=coordinator)
    again = await client.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=coordinator)
    resumed = await client.post(f"/api/v1/campaigns/{campaign.id}/resume", headers=coordinator)

    assert refused.status_code == 403
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    assert again.status_code == 409
    assert "cannot become paused" in again.json()["detail"]
    assert resumed.json()["status"] == "running"
    db_session.expire_all()
    assert db_session.get_one(Campaign, campaign.id).status == CampaignStatus.RUNNING


async def test_a_coordinator_creates_starts_and_cancels_a_campaign_from_an_approved_flow(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = make_cohort(db_session)
    for _ in range(2):
        make_pathway(db_session, cohort=cohort)
    headers = bearer(db_session, Role.COORDINATOR)
    db_session.commit()

    created = await client.post(
        "/api/v1/campaigns",
        json={"name": "Spring", "cohort_id": cohort.id, "flow_id": "standard-validation"},
        headers=headers,
    )
    campaign_id = created.json()["id"]
    started = await client.post(f"/api/v1/campaigns/{campaign_id}/start", headers=headers)
    cancelled = await client.post(f"/api/v1/campaigns/{campaign_id}/cancel", headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    assert started.json()["status"] == "scheduled"
    assert sum(started.json()["attempts"].values()) == 2
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["attempts"] == {"cancelled": 2}
    stored = db_session.get_one(Campaign, campaign_id)
    assert stored.created_by == "job-coordinator"


async def test_creating_refuses_unknown_flows_and_cohorts_and_a_clinician(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = make_cohort(db_session)
    coordinator, clinician = (
        bearer(db_session, Role.COORDINATOR),
        bearer(db_session, Role.CLINICIAN),
    )
    db_session.commit()
    good = {"name": "X", "cohort_id": cohort.id, "flow_id": "standard-validation"}

    no_flow = await client.post(
        "/api/v1/campaigns", json=good | {"flow_id": "no-such-flow"}, headers=coordinator
    )
    no_cohort = await client.post(
        "/api/v1/campaigns", json=good | {"cohort_id": 999_999}, headers=coordinator
    )
    too_fast = await client.post(
        "/api/v1/campaigns", json=good | {"calls_per_second": 1000}, headers=coordinator
    )
    by_clinician = await client.post("/api/v1/campaigns", json=good, headers=clinician)

    assert no_flow.status_code == 404
    assert no_cohort.status_code == 404
    assert too_fast.status_code == 422
    assert by_clinician.status_code == 403
    assert db_session.scalars(select(Campaign)).all() == []


async def test_an_unknown_campaign_is_404(client: httpx.AsyncClient, db_session: Session) -> None:
    headers = bearer(db_session, Role.COORDINATOR)
    db_session.commit()
    assert (await client.get("/api/v1/campaigns/999999", headers=headers)).status_code == 404
    assert (await client.post("/api/v1/campaigns/999999/pause", headers=headers)).status_code == 404
