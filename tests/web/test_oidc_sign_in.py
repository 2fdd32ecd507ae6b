"""Staff sign in through a real OpenID provider (oidc-provider on loopback) to the served app.

The browser here is an httpx client that follows every redirect itself and fills in the
provider's own login and consent pages, so each hop (the app's authorization request, the
provider's interaction, the callback with its code, the token exchange and userinfo behind it)
is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from app.models import AuditEvent, Role, User, UserSession
from app.users.service import assign_role
from tests.support.browser import LiveServer, run_live_server
from tests.support.oidc_provider import LoopbackProvider, browse, forms_in, run_provider
from tests.support.server import free_port
from tests.support.web import csrf_token_in


@dataclass(frozen=True)
class SignInWorld:
    """The served app and the provider it trusts."""

    app: LiveServer
    provider: LoopbackProvider


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInWorld]:
    """The provider (told the app's redirect URIs) and the app (told the provider's issuer)."""
    directory = tmp_path_factory.mktemp("oidc")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        run_provider(
            directory,
            redirect_uris=[base + "/sign-in/oidc/callback"],
            post_logout_redirect_uris=[base + "/sign-in"],
        ) as provider,
        run_live_server(directory, port=port, **provider.settings_overrides()) as app,
    ):
        yield SignInWorld(app=app, provider=provider)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A fresh browser (its own cookie jar) that follows redirects only as :func:`browse` does."""
    with httpx.Client(follow_redirects=False, timeout=20) as client:
        yield client


def _sign_in(world: SignInWorld, browser: httpx.Client, login: str) -> httpx.Response:
    response, _ = browse(browser, world.app.url("/sign-in/oidc?next=/campaigns"), login=login)
    return response


def _user(world: SignInWorld, subject: str) -> User | None:
    with world.app.session_factory() as session:
        return session.scalar(select(User).where(User.oidc_subject == subject))


def _events(world: SignInWorld, action: str) -> list[AuditEvent]:
    with world.app.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_sign_in_page_offers_the_provider_and_keeps_the_break_glass_form(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = browser.get(world.app.url("/sign-in"))
    assert "Sign in with the test identity provider" in page.text
    assert 'href="/sign-in/oidc?next=/"' in page.text.replace("%2F", "/")
    assert "break-glass" in page.text
    assert 'name="password"' in page.text


def test_the_authorization_request_carries_pkce_s256_a_state_and_a_nonce(
    world: SignInWorld, browser: httpx.Client
) -> None:
    response = browser.get(world.app.url("/sign-in/oidc"))
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}" == world.provider.issuer
    assert query["response_type"] == "code"
    assert query["client_id"] == world.provider.client_id
    assert query["redirect_uri"] == world.app.url("/sign-in/oidc/callback")
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["scope"].split()[0] == "openid"
    # What must come back is kept signed in the browser, not readable as plain values.
    pending = browser.cookies.get("waitlist_oidc")
    assert pending and query["state"] not in pending


def test_a_clinician_signs_in_at_the_provider_with_the_role_their_claim_maps_to(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = _sign_in(world, browser, "clinician-7f3a")

    assert page.status_code == 200, page.text
    assert str(page.url).endswith("/campaigns")
    assert "Priya Patel (clinician)" in page.text
    user = _user(world, "clinician-7f3a")
    assert user is not None
    assert (user.role, user.role_from_claims) == (Role.CLINICIAN, True)
    assert user.oidc_issuer == world.provider.issuer
    assert user.username == "priya.patel@example.nhs.uk"
    assert user.password_hash is None
    with world.app.session_factory() as session:
        open_session = session.scalar(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
        assert open_session is not None and open_session.method == "oidc"
    sign_ins = [event for event in _events(world, "sign_in") if event.actor_user_id == user.id]
    assert sign_ins and sign_ins[-1].detail["method"] == "oidc"
    assert browser.cookies.get("waitlist_oidc") is None


def test_the_role_follows_the_claim_at_every_sign_in(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = _sign_in(world, browser, "coordinator-91c2")
    assert "Omar Okafor (coordinator)" in page.text
    user = _user(world, "coordinator-91c2")
    assert user is not None
    # A local change is overruled the next time the provider's claims name a mapped role.
    with world.app.session_factory() as session:
        assign_role(session, user=session.get_one(User, user.id), role=Role.ADMIN, actor="test")
        session.commit()
    with httpx.Client(follow_redirects=False, timeout=20) as again:
        page = _sign_in(world, again, "coordinator-91c2")
    assert "Omar Okafor (coordinator)" in page.text
    changes = [e for e in _events(world, "role_changed") if e.entity_id == str(user.id)]
    assert [change.detail["source"] for change in changes] == ["claims", "local", "claims"]


def test_someone_whose_claims_map_to_no_role_is_told_so_and_audited_until_an_admin_gives_one(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = _sign_in(world, browser, "newcomer-0b5d")

    assert page.status_code == 403
    assert "You do not have access to this service" in page.text
    assert "Ask an administrator" in page.text
    assert browser.cookies.get("waitlist_session") is None
    user = _user(world, "newcomer-0b5d")
    assert user is not None and user.role is None
    refusals = [e for e in _events(world, "sign_in_refused") if e.entity_id == str(user.id)]
    assert [refusal.detail["reason"] for refusal in refusals] == ["no_role"]

    with world.app.session_factory() as session:
        assign_role(
            session, user=session.get_one(User, user.id), role=Role.COORDINATOR, actor="test"
        )
        session.commit()
    page = _sign_in(world, browser, "newcomer-0b5d")
    assert page.status_code == 200
    assert "Nia Novak (coordinator)" in page.text


def test_a_callback_whose_state_is_not_the_one_sent_is_refused(
    world: SignInWorld, browser: httpx.Client
) -> None:
    started = browser.get(world.app.url("/sign-in/oidc"))
    assert started.status_code == 303
    before = len(_events(world, "sign_in_refused"))

    page = browser.get(world.app.url("/sign-in/oidc/callback?code=stolen-code&state=forged"))

    assert page.status_code == 400
    assert "Sign-in could not be completed" in page.text
    assert browser.cookies.get("waitlist_session") is None
    refusals = _events(world, "sign_in_refused")[before:]
    assert [refusal.detail["reason"] for refusal in refusals] == ["bad_state"]
    assert refusals[0].actor_user_id is None


def test_a_callback_with_no_sign_in_started_in_this_browser_is_refused(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = browser.get(world.app.url("/sign-in/oidc/callback?code=abc&state=def"))
    assert page.status_code == 400
    assert _events(world, "sign_in_refused")[-1].detail["reason"] == "no_pending_sign_in"


def test_a_code_is_good_for_one_sign_in_only(world: SignInWorld, browser: httpx.Client) -> None:
    response, callback = browse(
        browser,
        world.app.url("/sign-in/oidc"),
        login="clinician-7f3a",
        stop_at=world.app.url("/sign-in/oidc/callback"),
    )
    assert callback, response.text
    assert browser.get(callback).status_code == 303  # signed in
    again = browser.get(callback)  # the same code, replayed
    assert again.status_code == 400


def test_signing_out_ends_the_session_here_and_at_the_provider(
    world: SignInWorld, browser: httpx.Client
) -> None:
    page = _sign_in(world, browser, "clinician-7f3a")
    session_cookie = browser.cookies.get("waitlist_session")
    assert session_cookie

    response = browser.post(
        world.app.url("/sign-out"), data={"csrf_token": csrf_token_in(page.text)}
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert response.headers["location"].startswith(world.provider.issuer)
    assert query["post_logout_redirect_uri"] == world.app.url("/sign-in")
    assert query["id_token_hint"].count(".") == 2
    assert query["client_id"] == world.provider.client_id
    # The provider asks to confirm; yes, then back to this service's sign-in page.
    confirm = browser.get(response.headers["location"])
    assert confirm.status_code == 200 and "sign-out" in confirm.text.lower()
    (form,) = forms_in(confirm.text)
    done = browser.post(
        urljoin(str(confirm.url), form.action), data={**form.fields, "logout": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == world.app.url("/sign-in")
    # The old cookie opens nothing any more, and the ID token is no longer kept.
    with httpx.Client(follow_redirects=False, cookies={"waitlist_session": session_cookie}) as old:
        assert old.get(world.app.url("/campaigns")).status_code == 303
    with world.app.session_factory() as session:
        kept = session.scalars(
            select(UserSession.id_token).where(UserSession.ended_at.is_not(None))
        )
        assert all(token is None for token in kept)
    assert _events(world, "sign_out")[-1].detail["method"] == "oidc"
    # Signing in again needs the provider's login again: its session ended too.
    response = browser.get(world.app.url("/sign-in/oidc"))
    while response.is_redirect:
        response = browser.get(urljoin(str(response.url), response.headers["location"]))
    assert [form.fields.get("prompt") for form in forms_in(response.text)] == ["login"]


@pytest.mark.browser
def test_in_a_real_browser_a_clinician_signs_in_at_the_provider_and_out_again(
    world: SignInWorld, browser_page: Page
) -> None:
    page = browser_page
    page.goto(world.app.url("/review"))
    page.get_by_role("button", name="Sign in with the test identity provider").click()
    # The provider's own pages: its login form, then its consent.
    page.locator("input[name=login]").fill("clinician-7f3a")
    page.locator("input[name=password]").fill("any password at the development login")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(world.app.url("/review"))
    assert "Priya Patel (clinician)" in page.content()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(world.app.url("/sign-in"))
    page.goto(world.app.url("/review"))
    assert page.url.startswith(world.app.url("/sign-in"))


def test_where_a_smartcard_level_is_required_a_sign_in_without_it_is_refused_and_told_why(
    tmp_path: Path, browser: httpx.Client
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        run_provider(
            tmp_path,
            redirect_uris=[base + "/sign-in/oidc/callback"],
            post_logout_redirect_uris=[base + "/sign-in"],
        ) as provider,
        run_live_server(
            tmp_path, port=port, **provider.settings_overrides(oidc_acr_values=["AAL3_ANY"])
        ) as app,
    ):
        world = SignInWorld(app=app, provider=provider)
        # The loopback provider's login vouches for no assurance level.
        page = _sign_in(world, browser, "clinician-7f3a")

        assert page.status_code == 400
        assert "stronger way of signing in" in page.text
        assert browser.cookies.get("waitlist_session") is None
        assert _user(world, "clinician-7f3a") is None, "no account is made for a refused sign-in"
        (refusal,) = _events(world, "sign_in_refused")
        assert refusal.detail["reason"] == "assurance_too_low"
