"""Admins give roles locally and reset lost second factors; nobody changes their own access."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Role
from app.users.totp import begin_enrolment
from tests.support.settings import TEST_SECRET
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in


async def _as_charlie(client: httpx.AsyncClient, personas: Personas) -> httpx.Response:
    await sign_in(client, "charlie", personas.passwords["charlie"])
    page = await client.get("/users")
    assert page.status_code == 200
    return page


async def test_an_admin_gives_a_person_a_role_and_it_is_audited_as_local(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    page = await _as_charlie(page_client, personas)
    bob = personas["bob"]

    response = await page_client.post(
        f"/users/{bob.id}/role", data={"csrf_token": csrf_token_in(page.text), "role": "clinician"}
    )

    assert response.status_code == 303
    db_session.refresh(bob)
    assert (bob.role, bob.role_from_claims) == (Role.CLINICIAN, False)
    change = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "role_changed")).one()
    assert change.actor == "charlie"
    assert change.detail == {"from": "coordinator", "to": "clinician", "source": "local"}
    listed = await page_client.get(response.headers["location"])
    assert "Access changed for bob" in listed.text


async def test_an_admin_cannot_change_their_own_role(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    page = await _as_charlie(page_client, personas)
    assert f'action="/users/{personas["charlie"].id}/role"' not in page.text

    response = await page_client.post(
        f"/users/{personas['charlie'].id}/role",
        data={"csrf_token": csrf_token_in(page.text), "role": "clinician"},
    )

    assert response.status_code == 400
    assert "ask another admin" in response.text
    db_session.refresh(personas["charlie"])
    assert personas["charlie"].role == Role.ADMIN


async def test_another_admin_resets_a_lost_second_factor(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    alice = personas["alice"]
    begin_enrolment(db_session, user=alice, secret_key=TEST_SECRET, issuer_name="T", actor="t")
    page = await _as_charlie(page_client, personas)

    response = await page_client.post(
        f"/users/{alice.id}/second-factor/reset", data={"csrf_token": csrf_token_in(page.text)}
    )

    assert response.status_code == 303
    db_session.refresh(alice)
    assert alice.totp_secret is None


async def test_only_admins_see_the_people_page(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    assert (await page_client.get("/users")).status_code == 403
