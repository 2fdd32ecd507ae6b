from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session

from app.models import Role
from app.users.tokens import issue_api_token, revoke_api_token
from app.web.auth import ClinicianUser
from tests.support.users import Personas, make_service_account
from tests.support.web import sign_in


def _token(db_session: Session, role: Role = Role.COORDINATOR) -> str:
    account = make_service_account(db_session, username=f"job-{role.value}", role=role)
    return issue_api_token(db_session, user=account, name="nightly").value


async def test_a_valid_token_says_whose_it_is(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    token = _token(db_session)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {
        "username": "job-coordinator",
        "full_name": "job-coordinator job",
        "role": "coordinator",
    }


async def test_no_token_is_a_401_that_asks_for_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_or_made_up_token_is_a_401(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    account = make_service_account(db_session, username="pas", role=Role.COORDINATOR)
    issued = issue_api_token(db_session, user=account, name="nightly")
    revoke_api_token(db_session, token_id=issued.record.id)
    for value in (issued.value, "wl_made_up", ""):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401


async def test_a_token_for_the_wrong_role_is_a_403(
    app: FastAPI, client: httpx.AsyncClient, db_session: Session
) -> None:
    router = APIRouter()

    @router.get("/api/v1/test-clinicians-only")
    def clinicians_only(user: ClinicianUser) -> dict[str, str]:
        return {"username": user.username}

    app.include_router(router)
    coordinator = _token(db_session, Role.COORDINATOR)
    clinician = _token(db_session, Role.CLINICIAN)
    path = "/api/v1/test-clinicians-only"
    refused = await client.get(path, headers={"Authorization": f"Bearer {coordinator}"})
    assert refused.status_code == 403
    allowed = await client.get(path, headers={"Authorization": f"Bearer {clinician}"})
    assert allowed.status_code == 200


async def test_a_browser_session_cannot_call_the_api(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    assert (await page_client.get("/")).status_code == 200
    assert (await page_client.get("/api/v1/me")).status_code == 401


async def test_a_token_cannot_open_pages(client: httpx.AsyncClient, db_session: Session) -> None:
    token = _token(db_session)
    response = await client.get("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 303
