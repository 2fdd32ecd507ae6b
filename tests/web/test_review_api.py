from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ClinicalDecision, Outcome, Role
from app.users.tokens import issue_api_token
from tests.review.conftest import queue_pathway
from tests.support.users import make_service_account


def bearer(session: Session, role: Role) -> dict[str, str]:
    account = make_service_account(session, username=f"job-{role.value}", role=role)
    token = issue_api_token(session, user=account, name="review tests")
    return {"Authorization": f"Bearer {token.value}"}


async def test_the_api_lists_the_queue_in_order_with_a_cursor(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    leave = queue_pathway(db_session, outcome=Outcome.LEAVE)
    worsened = queue_pathway(db_session, outcome=Outcome.WORSENED)
    headers = bearer(db_session, Role.COORDINATOR)

    first = await client.get("/api/v1/review-items?limit=1", headers=headers)
    body = first.json()
    second = await client.get(
        f"/api/v1/review-items?limit=1&after={body['next_cursor']}", headers=headers
    )

    assert [i["id"] for i in body["items"]] == [worsened.id]
    assert [i["id"] for i in second.json()["items"]] == [leave.id]
    assert body["counts"]["worsened"] == 1


async def test_the_api_answers_nothing_without_a_token(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    item = queue_pathway(db_session)
    db_session.commit()
    assert (await client.get("/api/v1/review-items")).status_code == 401
    assert (await client.get(f"/api/v1/review-items/{item.id}")).status_code == 401


async def test_a_clinician_account_decides_and_a_coordinator_account_cannot(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    item = queue_pathway(db_session)
    body = {"version": item.version, "decision": "keep", "note": "Still needs surgery."}
    coordinator, clinician = (
        bearer(db_session, Role.COORDINATOR),
        bearer(db_session, Role.CLINICIAN),
    )
    db_session.commit()

    refused = await client.post(
        f"/api/v1/review-items/{item.id}/decision",
        json=body,
        headers=coordinator,
    )
    decided = await client.post(
        f"/api/v1/review-items/{item.id}/decision",
        json=body,
        headers=clinician,
    )
    again = await client.post(
        f"/api/v1/review-items/{item.id}/decision",
        json=body,
        headers=clinician,
    )

    assert refused.status_code == 403
    assert decided.status_code == 201, decided.text
    assert decided.json()["decision"] == "keep"
    assert again.status_code == 409
    assert "Already decided by job-clinician job" in again.json()["detail"]
    assert len(db_session.scalars(select(ClinicalDecision)).all()) == 1
