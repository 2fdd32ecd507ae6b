"""Raw webhook events, stored once under a unique key, and the attempt a callback belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import ContactAttempt, WebhookEvent

SOURCE = "twilio"

# Statements built once: on the webhook path, building a statement and its cache key costs
# more than running it.
# RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
_INSERT_EVENT: dict[str, Executable] = {
    "postgresql": postgresql.insert(WebhookEvent)
    .on_conflict_do_nothing(index_elements=["source", "external_key"])
    .returning(WebhookEvent.id),
    "sqlite": sqlite.insert(WebhookEvent)
    .on_conflict_do_nothing(index_elements=["source", "external_key"])
    .returning(WebhookEvent.id),
}
_ATTEMPT_BY_TOKEN = (
    select(ContactAttempt)
    .where(ContactAttempt.token == bindparam("token"))
    # populate_existing: always the row as it is now, even if this session has seen it before.
    .execution_options(populate_existing=True)
)


def store_event(
    session: Session,
    *,
    kind: str,
    external_key: str,
    payload: Mapping[str, str | Sequence[str]],
    contact_attempt_id: int | None = None,
    source: str = SOURCE,
) -> bool:
    """Store a verified callback unless one with the same key exists; True if it is new.

    Insert-or-ignore on ``(source, external_key)``: the provider's retries and replayed requests
    find the key taken and change nothing.
    """
    connection = session.connection()
    values: dict[str, Any] = {
        "source": source,
        "kind": kind,
        "external_key": external_key[:200],
        "contact_attempt_id": contact_attempt_id,
        "payload": {name: _raw(value) for name, value in payload.items()},
        "received_at": utcnow(),
    }
    statement = _INSERT_EVENT[connection.dialect.name]
    return connection.execute(statement, values).scalar_one_or_none() is not None


def _raw(value: str | Sequence[str]) -> str | list[str]:
    """One value as a string; a repeated parameter as the list of its values."""
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else list(value)


def attempt_by_token(session: Session, token: str) -> ContactAttempt | None:
    """The attempt whose callback URLs carry ``token`` (never found by SID alone)."""
    if not token or len(token) > 64:
        return None
    return session.scalars(_ATTEMPT_BY_TOKEN, {"token": token}).first()
