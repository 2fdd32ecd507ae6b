"""Reading the audit trail: filtered, newest first, a page at a time (keyset on id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    """What to narrow the trail to; None means any."""

    actor: str | None = None
    action: str | None = None
    pathway_id: int | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of events and the id to continue from (None on the last page)."""

    events: list[AuditEvent]
    next_before_id: int | None


def search_audit_events(
    session: Session,
    *,
    filters: AuditFilters,
    before_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """Events matching ``filters`` with ids below ``before_id``, newest first."""
    query = select(AuditEvent)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.pathway_id is not None:
        query = query.where(AuditEvent.pathway_id == filters.pathway_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    events = rows[:limit]
    return AuditPage(events=events, next_before_id=events[-1].id if more and events else None)
