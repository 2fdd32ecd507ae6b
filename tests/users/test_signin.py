from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Role
from app.users import passwords
from app.users.service import create_user
from app.users.signin import (
    SignInRefusedError,
    ThrottlePolicy,
    authenticate,
    is_locked,
    prune_login_attempts,
)
from tests.support.users import Personas

POLICY = ThrottlePolicy(max_failures=3, max_failures_per_address=5, lock=dt.timedelta(minutes=15))
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _fail(session: Session, username: str, *, at: dt.datetime, address: str = "10.0.0.1") -> None:
    with pytest.raises(SignInRefusedError):
        authenticate(
            session,
            username=username,
            password="wrong password entirely",
            client_address=address,
            policy=POLICY,
            now=at,
        )


def _sign_in(
    session: Session,
    personas: Personas,
    username: str,
    *,
    at: dt.datetime,
    address: str = "10.0.0.1",
) -> None:
    authenticate(
        session,
        username=username,
        password=personas.passwords[username],
        client_address=address,
        policy=POLICY,
        now=at,
    )


def test_the_right_password_signs_in_and_records_when(
    db_session: Session, personas: Personas
) -> None:
    user = authenticate(
        db_session,
        username=" Alice ",
        password=personas.passwords["alice"],
        client_address="10.0.0.1",
        policy=POLICY,
        now=T0,
    )
    assert user.username == "alice"
    assert user.last_login_at == T0


def test_a_username_locks_after_repeated_failures_even_for_the_right_password(
    db_session: Session, personas: Personas
) -> None:
    for minute in range(3):
        _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=minute))
    with pytest.raises(SignInRefusedError) as refused:
        _sign_in(db_session, personas, "alice", at=T0 + dt.timedelta(minutes=4))
    assert refused.value.locked
    assert "Wait 15 minutes" in str(refused.value)


def test_a_lock_lifts_once_the_failures_are_older_than_the_window(
    db_session: Session, personas: Personas
) -> None:
    for minute in range(3):
        _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=minute))
    later = T0 + dt.timedelta(minutes=2, seconds=1) + POLICY.lock
    assert not is_locked(
        db_session, username="alice", client_address="10.0.0.1", policy=POLICY, now=later
    )
    _sign_in(db_session, personas, "alice", at=later)


def test_a_success_starts_the_count_again(db_session: Session, personas: Personas) -> None:
    _fail(db_session, "alice", at=T0)
    _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=1))
    _sign_in(db_session, personas, "alice", at=T0 + dt.timedelta(minutes=2))
    _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=3))
    _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=4))
    _sign_in(db_session, personas, "alice", at=T0 + dt.timedelta(minutes=5))


def test_unknown_usernames_lock_like_real_ones(db_session: Session, personas: Personas) -> None:
    for minute in range(3):
        _fail(db_session, "nobody", at=T0 + dt.timedelta(minutes=minute))
    with pytest.raises(SignInRefusedError) as refused:
        authenticate(
            db_session,
            username="nobody",
            password="anything at all",
            client_address="10.0.0.2",
            policy=POLICY,
            now=T0 + dt.timedelta(minutes=4),
        )
    assert refused.value.locked


def test_one_address_guessing_many_usernames_is_locked_out(
    db_session: Session, personas: Personas
) -> None:
    for n in range(5):
        _fail(db_session, f"guess{n}", at=T0 + dt.timedelta(seconds=n), address="192.0.2.9")
    with pytest.raises(SignInRefusedError) as refused:
        _sign_in(db_session, personas, "bob", at=T0 + dt.timedelta(minutes=1), address="192.0.2.9")
    assert refused.value.locked
    _sign_in(db_session, personas, "bob", at=T0 + dt.timedelta(minutes=1), address="192.0.2.10")


def test_a_deactivated_person_and_a_service_account_cannot_sign_in_with_a_password(
    db_session: Session, personas: Personas
) -> None:
    create_user(
        db_session, username="pas", full_name="PAS job", role=Role.COORDINATOR, service_account=True
    )
    for username, password in [("dave", personas.passwords["dave"]), ("pas", "")]:
        with pytest.raises(SignInRefusedError) as refused:
            authenticate(
                db_session,
                username=username,
                password=password,
                client_address="10.0.0.1",
                policy=POLICY,
                now=T0,
            )
        assert not refused.value.locked


def test_failures_are_audited_without_naming_unknown_usernames(
    db_session: Session, personas: Personas
) -> None:
    _fail(db_session, "alice", at=T0)
    _fail(db_session, "my-password-typed-here", at=T0)
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in_failed").order_by(AuditEvent.id)
    ).all()
    assert [event.actor for event in events] == ["alice", "unknown user"]
    assert all("my-password" not in str(event.detail) for event in events)


def test_an_unknown_username_costs_a_full_password_check(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = passwords._hasher.verify

    def counting_verify(password: str, hashed: str) -> bool:
        checked.append(hashed)
        return real_verify(password, hashed)

    monkeypatch.setattr(passwords._hasher, "verify", counting_verify)
    _fail(db_session, "nobody-at-all", at=T0)
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


def test_old_attempts_can_be_pruned_without_unlocking_recent_ones(
    db_session: Session, personas: Personas
) -> None:
    for minute in range(3):
        _fail(db_session, "alice", at=T0 + dt.timedelta(minutes=minute))
    _fail(db_session, "bob", at=T0 - dt.timedelta(days=2))
    assert prune_login_attempts(db_session, before=T0 - dt.timedelta(days=1)) == 1
    assert is_locked(
        db_session,
        username="alice",
        client_address="10.0.0.1",
        policy=POLICY,
        now=T0 + dt.timedelta(minutes=5),
    )
