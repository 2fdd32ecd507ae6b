from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.orm import Session

from app.models import Role
from app.users.service import create_user
from app.web.auth import PUBLIC_PREFIXES, PUBLIC_ROUTES, get_current_user
from tests.support.users import Personas
from tests.support.web import sign_in

# Every guarded page, and who may see it. Areas add their pages here as they build them.
GUARDED_PAGES: dict[str, set[str]] = {
    "/": {"alice", "bob", "charlie"},
    "/audit": {"charlie"},
    "/campaigns": {"alice", "bob", "charlie"},
    "/campaigns/new": {"bob"},
    "/cohorts": {"bob"},
    "/cohorts/mapping": {"bob"},
    "/dashboard": {"alice", "bob", "charlie"},
}


def _dependency_calls(dependant: Dependant) -> set[object]:
    calls: set[object] = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _dependency_calls(sub)
    return calls


def test_every_route_is_guarded_unless_it_is_listed_as_public(app: FastAPI) -> None:
    unguarded = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if path.startswith(PUBLIC_PREFIXES) or not isinstance(route, APIRoute):
            continue
        for method in context.methods or ():
            if method == "HEAD" or (method, path) in PUBLIC_ROUTES:
                continue
            if get_current_user not in _dependency_calls(context.dependant):
                unguarded.append(f"{method} {path}")
    assert unguarded == []


@pytest.mark.parametrize("path", sorted(GUARDED_PAGES))
@pytest.mark.parametrize("username", ["alice", "bob", "charlie"])
async def test_each_role_sees_only_the_pages_it_may(
    page_client: httpx.AsyncClient, personas: Personas, path: str, username: str
) -> None:
    await sign_in(page_client, username, personas.passwords[username])
    response = await page_client.get(path)
    expected = 200 if username in GUARDED_PAGES[path] else 403
    assert response.status_code == expected
    if expected == 403:
        assert "You cannot see this page" in response.text


@pytest.mark.parametrize("path", sorted(GUARDED_PAGES))
async def test_a_signed_out_browser_sees_no_guarded_page(
    page_client: httpx.AsyncClient, path: str
) -> None:
    response = await page_client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


async def test_a_deactivated_user_cannot_sign_in(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await sign_in(page_client, "dave", personas.passwords["dave"])
    assert response.status_code == 200
    assert "The username or password is not right." in response.text


async def test_a_name_with_markup_is_shown_as_text(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    create_user(
        db_session,
        username="mallory",
        full_name="<script>alert(1)</script>",
        role=Role.CLINICIAN,
        password="a long enough passphrase for tests",
    )
    await sign_in(page_client, "mallory", "a long enough passphrase for tests")
    home = await page_client.get("/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text
    assert "<script>alert(1)" not in home.text


async def test_pages_carry_the_security_headers(page_client: httpx.AsyncClient) -> None:
    response = await page_client.get("/sign-in")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text
    assert " style=" not in response.text


async def test_sign_in_only_returns_to_pages_of_this_service(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await sign_in(
        page_client, "alice", personas.passwords["alice"], next_path="//evil.example/"
    )
    assert response.headers["location"] == "/"


async def test_an_unknown_page_is_a_page_and_an_unknown_api_path_is_json(
    page_client: httpx.AsyncClient,
) -> None:
    page = await page_client.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" in page.text
    api = await page_client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


async def test_a_signed_out_post_changes_nothing_and_goes_to_sign_in(
    page_client: httpx.AsyncClient,
) -> None:
    response = await page_client.post("/sign-out", data={"csrf_token": "anything"})
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
