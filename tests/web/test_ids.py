"""Ids no row can have (beyond 64 bits) are refused as invalid, never a 500 (issue 19, item 6)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.models import Role
from app.web.ids import MAX_ROW_ID
from tests.support.api_tokens import tokens_by_role
from tests.support.users import Personas
from tests.support.web import sign_in

TOO_BIG = MAX_ROW_ID + 1


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/review-items/{TOO_BIG}",
        f"/api/v1/campaigns/{TOO_BIG}",
        f"/api/v1/campaigns/{TOO_BIG}/report",
        f"/api/v1/campaigns/{TOO_BIG}/unreachable",
        f"/api/v1/review-items?campaign_id={TOO_BIG}",
        f"/api/v1/imports/{TOO_BIG}",
        "/api/v1/review-items/0",
    ],
)
async def test_the_api_refuses_an_id_no_row_can_have(
    client: httpx.AsyncClient, db_session: Session, url: str
) -> None:
    token = tokens_by_role(db_session)[Role.COORDINATOR]
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422


async def test_the_api_refuses_a_decision_on_a_version_no_row_can_have(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    token = tokens_by_role(db_session)[Role.CLINICIAN]
    response = await client.post(
        "/api/v1/review-items/1/decision",
        headers={"Authorization": f"Bearer {token}"},
        json={"version": TOO_BIG, "decision": "keep", "note": "fine"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("alice", f"/review/{TOO_BIG}"),
        ("alice", f"/campaigns/{TOO_BIG}"),
        ("alice", f"/reports/campaigns/{TOO_BIG}"),
        ("bob", f"/cohorts/imports/{TOO_BIG}"),
        ("charlie", f"/audit?before={TOO_BIG}"),
    ],
)
async def test_a_page_refuses_an_id_no_row_can_have(
    page_client: httpx.AsyncClient, personas: Personas, username: str, url: str
) -> None:
    await sign_in(page_client, username, personas.passwords[username])
    response = await page_client.get(url)
    assert response.status_code == 422


async def test_an_audit_pathway_typed_beyond_64_bits_is_a_form_error(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    audit = await page_client.get(f"/audit?pathway={TOO_BIG}")
    assert audit.status_code == 200
    assert "Pathway must be a number" in audit.text


async def test_a_queue_filtered_by_a_campaign_beyond_64_bits_is_shown_unfiltered(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    queue = await page_client.get(f"/review?campaign={TOO_BIG}")
    assert queue.status_code == 200
