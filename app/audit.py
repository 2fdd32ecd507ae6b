"""The one way to write an audit record: every view and decision of a patient record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.logging import request_id_var
from app.models import AuditEvent, User


def record(
    session: Session,
    *,
    actor: User | str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    pathway_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event in the caller's transaction (it commits with the action it records)."""
    event = AuditEvent(
        actor_user_id=actor.id if isinstance(actor, User) else None,
        actor=actor.username if isinstance(actor, User) else actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        pathway_id=pathway_id,
        detail=detail or {},
        request_id=None if request_id_var.get() == "-" else request_id_var.get(),
    )
    session.add(event)
    return event


def record_many(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    events: list[tuple[int, int | None, dict[str, Any]]],
) -> None:
    """Append one event per ``(entity_id, pathway_id, detail)`` with a single bulk INSERT.

    For the service's own bulk work (an import opening thousands of follow-up tasks): the rows
    are the ones ``record`` would write, without an ORM object each.
    """
    if not events:
        return
    request_id = None if request_id_var.get() == "-" else request_id_var.get()
    session.execute(
        insert(AuditEvent),
        [
            {
                "actor_user_id": None,
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "pathway_id": pathway_id,
                "detail": detail,
                "request_id": request_id,
            }
            for entity_id, pathway_id, detail in events
        ],
    )
