"""Signing in with a password, throttled per username and per client address.

Attempts are rows in ``login_attempt``, so every web replica sees the same counts. A username
is locked after ``max_failures`` failures within ``lock`` since its last success; a client
address after ``max_failures_per_address`` failures within ``lock``. Unknown usernames are
counted and locked like real ones and cost the same password check, so neither the answer nor
its timing says whether an account exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import audit
from app.db import changed, utcnow
from app.errors import DomainError
from app.models import LoginAttempt, User
from app.users.passwords import verify_password
from app.users.service import normalise_username
from app.users.totp import second_factor_required, verify_code


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures lock a username or an address, and for how long."""

    max_failures: int = 5
    max_failures_per_address: int = 50
    lock: dt.timedelta = dt.timedelta(minutes=15)


class SignInRefusedError(DomainError):
    """Wrong username or password, or too many recent failures (``locked``)."""

    def __init__(self, message: str, *, locked: bool) -> None:
        super().__init__(message)
        self.locked = locked


# Sign-in attempts older than this count towards no lock (a lock lasts minutes): the worker's
# housekeeping deletes them, so the table holds about a day of attempts, not every one ever.
ATTEMPTS_KEPT = dt.timedelta(days=1)

WRONG_CREDENTIALS = "The username or password is not right."
WRONG_CODE = "The code is not right. Enter the 6-digit code your authenticator app shows now."
LOCKED = "Too many failed attempts. Wait {minutes} minutes, then try again."


def is_locked(
    session: Session,
    *,
    username: str,
    client_address: str,
    policy: ThrottlePolicy,
    now: dt.datetime | None = None,
) -> bool:
    """Whether attempts for this username or from this address are refused right now."""
    now = now or utcnow()
    since = now - policy.lock
    name = normalise_username(username)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name, LoginAttempt.succeeded.is_(True)
        )
    )
    user_since = max(since, last_success) if last_success else since
    user_failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.username == name,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > user_since,
        )
    )
    if (user_failures or 0) >= policy.max_failures:
        return True
    address_failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.client_address == client_address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    )
    return (address_failures or 0) >= policy.max_failures_per_address


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str,
    policy: ThrottlePolicy,
    now: dt.datetime | None = None,
    totp_required_for_admins: bool = False,
) -> User:
    """The person with these credentials, or SignInRefusedError; every attempt is recorded.

    For a person who also needs a code (:func:`second_factor_required`) a right password is
    not yet a success: it resets no failure count, so guessing codes stays throttled, and the
    success is recorded by :func:`check_code`.
    """
    now = now or utcnow()
    name = normalise_username(username)
    address = client_address[:64]
    if is_locked(session, username=name, client_address=address, policy=policy, now=now):
        _record_attempt(session, username=name, address=address, succeeded=False, now=now)
        audit.record(
            session,
            actor=_known_actor(session, name),
            action="sign_in_locked",
            entity_type="user",
            detail={"client_address": address},
        )
        minutes = int(policy.lock.total_seconds() // 60)
        raise SignInRefusedError(LOCKED.format(minutes=minutes), locked=True)
    user = session.scalar(select(User).where(User.username == name))
    usable = user is not None and user.is_active and not user.is_service_account
    matches = verify_password(password, user.password_hash if usable and user else None)
    if not (usable and matches and user):
        _record_attempt(session, username=name, address=address, succeeded=False, now=now)
        audit.record(
            session,
            actor=_known_actor(session, name),
            action="sign_in_failed",
            entity_type="user",
            entity_id=user.id if user else None,
            detail={"client_address": address},
        )
        raise SignInRefusedError(WRONG_CREDENTIALS, locked=False)
    if second_factor_required(user, required_for_admins=totp_required_for_admins):
        return user
    _record_attempt(session, username=name, address=address, succeeded=True, now=now)
    user.last_login_at = now
    return user


def check_code(
    session: Session,
    *,
    user_id: int,
    code: str,
    client_address: str,
    policy: ThrottlePolicy,
    secret_key: str,
    now: dt.datetime | None = None,
) -> User:
    """The person whose password was right, once their TOTP code is too; throttled like
    passwords (a wrong code counts as a failed attempt on the username)."""
    now = now or utcnow()
    address = client_address[:64]
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.is_service_account:
        raise SignInRefusedError(WRONG_CODE, locked=False)
    name = user.username
    if is_locked(session, username=name, client_address=address, policy=policy, now=now):
        _record_attempt(session, username=name, address=address, succeeded=False, now=now)
        audit.record(
            session,
            actor=user,
            action="sign_in_locked",
            entity_type="user",
            entity_id=user.id,
            detail={"client_address": address, "step": "totp"},
        )
        minutes = int(policy.lock.total_seconds() // 60)
        raise SignInRefusedError(LOCKED.format(minutes=minutes), locked=True)
    if not verify_code(session, user=user, code=code, secret_key=secret_key, now=now):
        _record_attempt(session, username=name, address=address, succeeded=False, now=now)
        audit.record(
            session,
            actor=user,
            action="sign_in_failed",
            entity_type="user",
            entity_id=user.id,
            detail={"client_address": address, "step": "totp"},
        )
        raise SignInRefusedError(WRONG_CODE, locked=False)
    _record_attempt(session, username=name, address=address, succeeded=True, now=now)
    user.last_login_at = now
    return user


def prune_login_attempts(session: Session, *, before: dt.datetime) -> int:
    """Delete attempts older than ``before`` (they no longer count); returns how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < before))
    return changed(result)


def _record_attempt(
    session: Session, *, username: str, address: str, succeeded: bool, now: dt.datetime
) -> None:
    session.add(
        LoginAttempt(at=now, username=username, client_address=address, succeeded=succeeded)
    )
    session.flush()


def _known_actor(session: Session, username: str) -> User | str:
    # Only a real account is named: an unknown "username" may be a mistyped password.
    user = session.scalar(select(User).where(User.username == username))
    return user if user is not None else "unknown user"
