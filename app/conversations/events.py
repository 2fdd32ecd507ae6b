"""Raw webhook events, stored once under a unique key, and the attempt a callback belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import ContactAttempt, WebhookEvent

SOURCE = "twilio"


def store_event(
    session: Session,
    *,
    kind: str,
    external_key: str,
    payload: Mapping[str, str | Sequence[str]],
    contact_attempt_id: int | None = None,
) -> bool:
    """Store a verified callback unless one with the same key exists; True if it is new.

    Insert-or-ignore on ``(source, external_key)``: Twilio's retries and replayed requests find
    the key taken and change nothing.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, Any] = {
        "source": SOURCE,
        "kind": kind,
        "external_key": external_key[:200],
        "contact_attempt_id": contact_attempt_id,
        "payload": {name: _raw(value) for name, value in payload.items()},
        "received_at": utcnow(),
    }
    statement = (
        insert(WebhookEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "external_key"])
        .returning(WebhookEvent.id)
    )
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
    return session.execute(statement).scalar_one_or_none() is not None


def _raw(value: str | Sequence[str]) -> str | list[str]:
    """One value as a string; a repeated parameter as the list of its values."""
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else list(value)


def attempt_by_token(session: Session, token: str) -> ContactAttempt | None:
    """The attempt whose callback URLs carry ``token`` (never found by SID alone)."""
    if not token or len(token) > 64:
        return None
    # populate_existing: always the row as it is now, even if this session has seen it before.
    return session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.token == token)
        .execution_options(populate_existing=True)
    ).first()
