"""API tokens for service accounts (a PAS job, a reporting tool); hashed at rest."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import changed, utcnow
from app.errors import InvalidInputError, NotFoundError
from app.models import ApiToken, User
from app.users.sessions import TOUCH_EVERY, token_hash

# A recognisable prefix lets secret scanners find leaked tokens.
TOKEN_PREFIX = "wl_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the value is shown once and never stored."""

    value: str
    record: ApiToken


def issue_api_token(
    session: Session, *, user: User, name: str, actor: User | str = "system"
) -> IssuedToken:
    """A new bearer token for a service account; it carries the account's role."""
    if not user.is_service_account:
        raise InvalidInputError("API tokens are for service accounts; people sign in.")
    if not user.is_active:
        raise InvalidInputError("The account is deactivated.")
    if not name.strip():
        raise InvalidInputError("A token needs a name that says what uses it.")
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(token_hash=token_hash(value), user_id=user.id, name=name.strip()[:100])
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_token_issued",
        entity_type="api_token",
        entity_id=record.id,
        detail={"for": user.username, "name": record.name},
    )
    return IssuedToken(value=value, record=record)


def resolve_api_token(
    session: Session, *, value: str, now: dt.datetime | None = None
) -> User | None:
    """The active service account behind a bearer token, or None."""
    now = now or utcnow()
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(value), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    record, user = row
    if not user.is_active or not user.is_service_account:
        return None
    if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY:
        record.last_used_at = now
    return user


def revoke_api_token(session: Session, *, token_id: int, actor: User | str = "system") -> None:
    """Stop a token from working (at once, on every replica)."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if changed(result) != 1:
        raise NotFoundError(f"No active API token with id {token_id}.")
    audit.record(
        session,
        actor=actor,
        action="api_token_revoked",
        entity_type="api_token",
        entity_id=token_id,
    )
