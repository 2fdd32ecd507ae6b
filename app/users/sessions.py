"""Browser sessions: a random cookie value whose SHA-256 is all the database keeps."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.models import User, UserSession

# last_seen_at is written at most this often, so reading pages is not a write per request.
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    """The stored form of a cookie or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just started: the cookie value (never stored) and the row."""

    token: str
    record: UserSession


@dataclass(frozen=True)
class SessionPolicy:
    """When an idle or old session stops working."""

    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)


def start_session(
    session: Session,
    *,
    user: User,
    client_address: str = "",
    now: dt.datetime | None = None,
    method: str = "password",
    id_token: str | None = None,
) -> NewSession:
    """A brand-new session for ``user`` (a fresh token at every sign-in defeats fixation).

    ``method`` says how they proved who they are; ``id_token`` is the provider's, kept to end
    the provider's session at sign-out.
    """
    now = now or utcnow()
    if user.role is None:
        raise ValueError("a user with no role has no access and gets no session")
    token = secrets.token_urlsafe(32)
    record = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        method=method,
        id_token=id_token,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="sign_in",
        entity_type="user_session",
        entity_id=record.id,
        detail={"client_address": client_address[:64], "method": method},
    )
    return NewSession(token=token, record=record)


def resolve_session(
    session: Session,
    *,
    token: str,
    policy: SessionPolicy,
    now: dt.datetime | None = None,
) -> tuple[User, UserSession] | None:
    """The active user and session behind a cookie value, or None (idle, ended, unknown)."""
    now = now or utcnow()
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    record, user = row
    expired = now - record.last_seen_at > policy.idle or now - record.created_at > policy.absolute
    if expired or not user.is_active or user.role is None:
        _end(session, record=record, now=now)
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
    return user, record


def end_session(session: Session, *, token: str, actor: User) -> EndedSession | None:
    """Sign out: the session behind this cookie value stops working.

    Returns how it had started (and the provider's ID token, now forgotten here) so the caller
    can end the provider's session too; None if there was no open session.
    """
    record = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if record is None or record.ended_at is not None:
        return None
    ended = EndedSession(method=record.method, id_token=record.id_token)
    _end(session, record=record, now=utcnow())
    audit.record(
        session,
        actor=actor,
        action="sign_out",
        entity_type="user_session",
        entity_id=record.id,
        detail={"method": record.method},
    )
    return ended


@dataclass(frozen=True)
class EndedSession:
    """How a session that just ended had started."""

    method: str
    id_token: str | None


def _end(session: Session, *, record: UserSession, now: dt.datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == record.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, id_token=None)
    )
