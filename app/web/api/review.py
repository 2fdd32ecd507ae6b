"""``/api/v1/review-items``: the review queue and decisions for machine clients."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.models import Decision
from app.review.decisions import decide
from app.review.item import view_item
from app.review.queue import QueueFilters, QueueRow, list_queue
from app.web.api.responses import errors
from app.web.auth import ClinicianUser, StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId

router = APIRouter(tags=["review"])


class ReviewItemSummary(BaseModel):
    """A line of the queue."""

    id: int
    version: int
    reason: str
    priority: str | None
    provider_code: str
    pathway_id: str
    specialty_code: str
    nhs_number: str
    patient_name: str
    clock_start_date: dt.date
    weeks_waiting: int
    opened_at: dt.datetime
    due_at: dt.datetime
    overdue: bool

    @classmethod
    def of(cls, row: QueueRow) -> ReviewItemSummary:
        """The API shape of a queue row."""
        return cls(
            id=row.item_id,
            version=row.version,
            reason=row.reason,
            priority=row.priority,
            provider_code=row.provider_code,
            pathway_id=row.pathway_ref,
            specialty_code=row.specialty_code,
            nhs_number=row.nhs_number,
            patient_name=row.patient_name,
            clock_start_date=row.clock_start_date,
            weeks_waiting=row.weeks_waiting,
            opened_at=row.opened_at,
            due_at=row.due_at,
            overdue=row.overdue,
        )


class ReviewQueuePage(BaseModel):
    """A page of the queue; pass ``next_cursor`` as ``after`` for the next one."""

    items: list[ReviewItemSummary]
    next_cursor: str | None
    previous_cursor: str | None
    counts: dict[str, int]
    count_cap: int = Field(description="A count equal to this means that many or more.")


class ReviewItemDetail(BaseModel):
    """One item with its status, who decided it, and the suggested RTT code."""

    id: int
    version: int
    status: str
    reason: str
    pathway_id: str
    provider_code: str
    suggested_rtt_status_code: str
    decided_by: str | None
    decided_at: dt.datetime | None


class DecisionIn(BaseModel):
    """A clinician's decision on the item they saw at ``version``."""

    version: RowId
    decision: Decision
    note: str = Field(max_length=2000)
    rtt_status_code: str | None = None
    new_priority: str | None = None


class DecisionOut(BaseModel):
    """The recorded decision."""

    id: int
    review_item_id: int
    decision: Decision
    rtt_status_code: str | None
    new_priority: str | None
    decided_at: dt.datetime
    undoable_until: dt.datetime | None


@router.get("/review-items")
def list_review_items(
    session: SessionDep,
    _user: StaffUser,
    campaign_id: RowId | None = None,
    specialty_code: Annotated[str | None, Query(max_length=3)] = None,
    reason: Annotated[str | None, Query(max_length=24)] = None,
    provider_code: Annotated[str | None, Query(max_length=12)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ReviewQueuePage:
    """Open review items in queue order, one keyset page at a time."""
    page = list_queue(
        session,
        filters=QueueFilters(
            campaign_id=campaign_id,
            specialty_code=specialty_code,
            reason=reason,
            provider_code=provider_code,
        ),
        after=after,
        before=before,
        limit=limit,
    )
    return ReviewQueuePage(
        items=[ReviewItemSummary.of(row) for row in page.rows],
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
        counts=page.counts,
        count_cap=page.count_cap,
    )


@router.get("/review-items/{item_id}", responses=errors(404))
def get_review_item(session: SessionDep, user: StaffUser, item_id: RowId) -> ReviewItemDetail:
    """One review item (the view is audited)."""
    view = view_item(session, item_id=item_id, viewer=user)
    return ReviewItemDetail(
        id=view.item.id,
        version=view.item.version,
        status=view.item.status.value,
        reason=view.item.reason,
        pathway_id=view.pathway.pathway_id,
        provider_code=view.pathway.provider_code,
        suggested_rtt_status_code=view.suggested_rtt_status_code,
        decided_by=view.decided_by,
        decided_at=view.item.decided_at,
    )


@router.post(
    "/review-items/{item_id}/decision", status_code=201, responses=errors(400, 403, 404, 409)
)
def decide_review_item(
    session: SessionDep,
    settings: SettingsDep,
    user: ClinicianUser,
    item_id: RowId,
    body: DecisionIn,
) -> DecisionOut:
    """Record a clinician's decision; 409 names who decided first and when."""
    record = decide(
        session,
        item_id=item_id,
        seen_version=body.version,
        decision=body.decision,
        by=user,
        note=body.note,
        rtt_status_code=body.rtt_status_code,
        new_priority=body.new_priority,
        undo_days=settings.review_undo_days,
    )
    return DecisionOut(
        id=record.id,
        review_item_id=record.review_item_id,
        decision=record.decision,
        rtt_status_code=record.rtt_status_code,
        new_priority=record.new_priority,
        decided_at=record.decided_at,
        undoable_until=record.undoable_until,
    )
