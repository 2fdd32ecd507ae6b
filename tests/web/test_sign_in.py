from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import UserSession
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in, signed_in_csrf

SESSION_COOKIE = "__Host-waitlist_session"


async def test_a_signed_out_browser_is_sent_to_sign_in_and_back(
    page_client: httpx.AsyncClient,
) -> None:
    response = await page_client.get("/audit?actor=bob")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faudit%3Factor%3Dbob"


async def test_signing_in_goes_to_the_page_asked_for(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await sign_in(page_client, "alice", personas.passwords["alice"], next_path="/")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = await page_client.get("/")
    assert home.status_code == 200
    assert "Alice Adeyemi" in home.text


async def test_the_session_cookie_is_secure_httponly_and_lax(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await sign_in(page_client, "alice", personas.passwords["alice"])
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE)
    ).lower()
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie


async def test_a_wrong_password_shows_the_form_again_without_a_session(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await sign_in(page_client, "alice", "not her password at all")
    assert response.status_code == 200
    assert "The username or password is not right." in response.text
    assert SESSION_COOKIE not in page_client.cookies
    assert (await page_client.get("/")).status_code == 303


async def test_signing_in_replaces_a_planted_cookie_value(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    planted = "attacker-chosen-session-value"
    page_client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    await sign_in(page_client, "alice", personas.passwords["alice"])
    issued = page_client.cookies.get(SESSION_COOKIE)
    assert issued and issued != planted


async def test_signing_in_over_an_existing_session_ends_it_and_issues_a_new_one(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "bob", personas.passwords["bob"])
    bobs_cookie = page_client.cookies.get(SESSION_COOKIE)
    token = await signed_in_csrf(page_client)
    response = await page_client.post(
        "/sign-in",
        data={"csrf_token": token, "username": "alice", "password": personas.passwords["alice"]},
    )
    assert response.status_code == 303
    alices_cookie = page_client.cookies.get(SESSION_COOKIE)
    assert alices_cookie and alices_cookie != bobs_cookie
    assert "Alice Adeyemi" in (await page_client.get("/")).text
    page_client.cookies.set(SESSION_COOKIE, str(bobs_cookie), domain="testserver.local")
    assert (await page_client.get("/")).status_code == 303


async def test_an_idle_session_stops_working(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    assert (await page_client.get("/")).status_code == 200
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    db_session.execute(update(UserSession).values(last_seen_at=long_ago))
    response = await page_client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2F"


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    token = await signed_in_csrf(page_client)
    assert (await page_client.post("/sign-out")).status_code == 403
    assert (await page_client.post("/sign-out", data={"csrf_token": "x" * 43})).status_code == 403
    assert (await page_client.get("/")).status_code == 200
    response = await page_client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert (await page_client.get("/")).status_code == 303


async def test_the_sign_in_form_refuses_a_post_without_its_csrf_token(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await page_client.get("/sign-in")
    response = await page_client.post(
        "/sign-in", data={"username": "alice", "password": personas.passwords["alice"]}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in page_client.cookies


async def test_a_sign_in_token_from_another_browser_is_refused(
    app: object, page_client: httpx.AsyncClient, personas: Personas
) -> None:
    other = await page_client.get("/sign-in")
    stolen = csrf_token_in(other.text)
    page_client.cookies.clear()
    await page_client.get("/sign-in")
    response = await page_client.post(
        "/sign-in",
        data={"csrf_token": stolen, "username": "alice", "password": personas.passwords["alice"]},
    )
    assert response.status_code == 403
