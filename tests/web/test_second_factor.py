"""Break-glass password accounts with a TOTP second factor, required for admins.

charlie is the admin; alice a clinician. Settings here require TOTP for admins, as production
always does.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import ConflictError, InvalidInputError
from app.models import AuditEvent, LoginAttempt, User
from app.users.totp import begin_enrolment, reset_second_factor, verify_code
from tests.support.settings import TEST_SECRET, make_settings
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As a real deployment: admins need a code as well as a password."""
    return make_settings(database_url, totp_required_for_admins=True, login_max_failures=3)


def _enrol(session: Session, user: User) -> pyotp.TOTP:
    enrolment = begin_enrolment(
        session, user=user, secret_key=TEST_SECRET, issuer_name="Test Trust", actor="test"
    )
    session.commit()
    return pyotp.TOTP(enrolment.secret)


async def _enter_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    form = await client.get("/sign-in/code")
    assert form.status_code == 200, form.status_code
    return await client.post(
        "/sign-in/code", data={"csrf_token": csrf_token_in(form.text), "code": code}
    )


def _actions(session: Session, user: User) -> list[tuple[str, dict[str, object]]]:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == str(user.id)).order_by(AuditEvent.id)
    )
    return [(event.action, event.detail) for event in events]


async def test_an_admin_without_a_second_factor_cannot_finish_signing_in(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    response = await sign_in(page_client, "charlie", personas.passwords["charlie"])

    assert response.status_code == 403
    assert "You need a second factor to sign in" in response.text
    assert "waitlist user totp-enrol" in response.text
    assert "__Host-waitlist_session" not in page_client.cookies
    assert (await page_client.get("/audit")).status_code == 303
    actions = _actions(db_session, personas["charlie"])
    assert (
        "sign_in_refused",
        {"reason": "second_factor_missing", "client_address": "127.0.0.1"},
    ) in actions


async def test_an_enrolled_admin_signs_in_with_password_then_code(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    totp = _enrol(db_session, personas["charlie"])

    response = await sign_in(
        page_client, "charlie", personas.passwords["charlie"], next_path="/audit"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in/code"
    assert "__Host-waitlist_session" not in page_client.cookies  # not yet

    signed_in = await _enter_code(page_client, totp.now())

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/audit"
    assert (await page_client.get("/audit")).status_code == 200
    db_session.refresh(personas["charlie"])
    assert personas["charlie"].totp_confirmed_at is not None  # the first code confirmed it
    sign_in_event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id.desc())
    ).first()
    assert sign_in_event is not None and sign_in_event.detail["method"] == "totp"


async def test_a_wrong_code_is_refused_and_audited(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    totp = _enrol(db_session, personas["charlie"])
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"

    response = await _enter_code(page_client, wrong)

    assert response.status_code == 200
    assert "The code is not right" in response.text
    assert "__Host-waitlist_session" not in page_client.cookies
    failures = [
        detail for action, detail in _actions(db_session, personas["charlie"])
        if action == "sign_in_failed"
    ]  # fmt: skip
    assert failures and failures[-1]["step"] == "totp"


async def test_guessing_codes_is_throttled_like_guessing_passwords(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    totp = _enrol(db_session, personas["charlie"])
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    for guess in ("000000", "111111", "222222"):
        if guess != totp.now():
            await _enter_code(page_client, guess)
    # A right password again resets nothing: the codes guessed still count.
    await sign_in(page_client, "charlie", personas.passwords["charlie"])

    locked = await _enter_code(page_client, totp.now())

    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text
    failures = db_session.scalar(
        select(LoginAttempt.id).where(LoginAttempt.username == "charlie", LoginAttempt.succeeded)
    )
    assert failures is None  # no success was ever recorded


async def test_a_code_works_once(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    user = personas["charlie"]
    totp = _enrol(db_session, user)
    now = dt.datetime.now(dt.UTC)
    code = totp.at(now)

    assert verify_code(db_session, user=user, code=code, secret_key=TEST_SECRET, now=now)
    assert not verify_code(db_session, user=user, code=code, secret_key=TEST_SECRET, now=now)
    # An older code from before the one used is no good either.
    earlier = totp.at(now - dt.timedelta(seconds=30))
    assert not verify_code(db_session, user=user, code=earlier, secret_key=TEST_SECRET, now=now)
    later = now + dt.timedelta(seconds=30)
    assert verify_code(
        db_session, user=user, code=totp.at(later), secret_key=TEST_SECRET, now=later
    )


async def test_the_code_page_without_a_right_password_first_goes_back_to_sign_in(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    response = await page_client.get("/sign-in/code")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


async def test_a_clinician_enrols_an_authenticator_and_then_needs_its_code(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    await sign_in(page_client, "alice", personas.passwords["alice"])
    page = await page_client.get("/account/two-factor")
    assert "Set up an authenticator app" in page.text

    shown = await page_client.post(
        "/account/two-factor", data={"csrf_token": csrf_token_in(page.text)}
    )

    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert "<svg" in shown.text
    assert "otpauth://totp/" in shown.text
    secret = shown.text.split("Or enter this key by hand: <code>")[1].split("</code>")[0]
    db_session.refresh(personas["alice"])
    assert personas["alice"].totp_secret is not None
    assert secret not in personas["alice"].totp_secret  # stored encrypted
    bad = await page_client.post(
        "/account/two-factor/confirm",
        data={"csrf_token": csrf_token_in(shown.text), "code": "12345x"},
    )
    assert bad.status_code == 400
    confirmed = await page_client.post(
        "/account/two-factor/confirm",
        data={"csrf_token": csrf_token_in(shown.text), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 303
    again = await page_client.get("/account/two-factor")
    assert "asks for a code from your authenticator app" in again.text

    await page_client.post("/sign-out", data={"csrf_token": csrf_token_in(again.text)})
    response = await sign_in(page_client, "alice", personas.passwords["alice"])
    assert response.headers["location"] == "/sign-in/code"


async def test_only_another_admin_resets_a_second_factor(
    personas: Personas, db_session: Session
) -> None:
    charlie, alice = personas["charlie"], personas["alice"]
    _enrol(db_session, charlie)
    with pytest.raises(InvalidInputError, match="Another admin"):
        reset_second_factor(db_session, user=charlie, actor=charlie)
    with pytest.raises(InvalidInputError, match="Another admin"):
        reset_second_factor(db_session, user=charlie, actor=alice)

    reset_second_factor(db_session, user=charlie, actor="cli")

    assert charlie.totp_secret is None and charlie.totp_confirmed_at is None
    assert ("totp_reset", {}) in _actions(db_session, charlie)


async def test_a_confirmed_second_factor_is_not_replaced_by_a_new_enrolment(
    personas: Personas, db_session: Session
) -> None:
    totp = _enrol(db_session, personas["charlie"])
    assert verify_code(
        db_session, user=personas["charlie"], code=totp.now(), secret_key=TEST_SECRET
    )
    with pytest.raises(ConflictError, match="reset it first"):
        _enrol(db_session, personas["charlie"])


async def test_settings_refuse_to_drop_the_admin_requirement_in_production() -> None:
    with pytest.raises(ValueError, match="TOTP_REQUIRED_FOR_ADMINS"):
        Settings(
            environment="production",
            secret_key="x" * 40,
            totp_required_for_admins=False,
        )


async def test_an_enrolment_never_confirmed_does_not_lock_a_clinician_out(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    _enrol(db_session, personas["alice"])  # the page was closed before a code was entered

    response = await sign_in(page_client, "alice", personas.passwords["alice"])

    assert response.status_code == 303
    assert response.headers["location"] == "/"
