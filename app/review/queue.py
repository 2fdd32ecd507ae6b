"""The review queue: open items, most urgent first, one keyset page at a time."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session

from app.db import READ_ONLY, utcnow
from app.errors import InvalidInputError
from app.models import Answer, Campaign, Outcome, Pathway, Patient, ReviewItem, ReviewStatus
from app.review.intake import CHANGE_OF_MIND_RANK, REVIEW_RANK
from app.review.item import age_on

# The queue's order; the cursor of a page is the last (or first) row's values of these.
SORT_KEY = (
    ReviewItem.rank,
    ReviewItem.priority_rank,
    ReviewItem.clock_start_date,
    ReviewItem.id,
)
SortKey = tuple[int, int, dt.date, int]
# Reasons in the order the queue shows them; "stay" is a reply within a change-of-mind window.
QUEUE_REASONS = tuple(
    o.value
    for o in (
        Outcome.WORSENED,
        Outcome.REPORTED_DECEASED,
        Outcome.LEAVE,
        Outcome.UNCLEAR,
        Outcome.CALLBACK_REQUESTED,
        Outcome.STAY,
    )
)
COUNT_CAP = 1_000


@dataclass(frozen=True)
class QueueFilters:
    """What a clinician narrowed the queue to; ``None`` means any."""

    campaign_id: int | None = None
    specialty_code: str | None = None
    reason: str | None = None
    provider_code: str | None = None


@dataclass(frozen=True)
class LatestAnswer:
    """The newest answer a patient gave in their own words or keys."""

    text: str
    kind: str
    meaning: str | None


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, with what a clinician needs to choose what to open."""

    item_id: int
    version: int
    reason: str
    priority: str | None
    provider_code: str
    pathway_ref: str
    specialty_code: str
    specialty_name: str | None
    patient_name: str
    nhs_number: str
    clock_start_date: dt.date
    weeks_waiting: int
    opened_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    sort_key: SortKey
    age: int = 0
    campaign_name: str | None = None
    # The patient's latest words (or keys) and what they were taken to mean, if any.
    answer: LatestAnswer | None = None

    @property
    def urgent(self) -> bool:
        """A worsened patient past the review deadline: shown most prominently."""
        return self.overdue and self.reason == Outcome.WORSENED.value


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue, the cursors either side of it, and counts per reason."""

    rows: list[QueueRow]
    next_cursor: str | None
    previous_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    count_cap: int = 0

    @property
    def total(self) -> int:
        """Open items matching the filters other than reason (at least, when a count is capped)."""
        return sum(self.counts.values())

    @property
    def counts_capped(self) -> bool:
        """Whether some reason has more open items than were counted."""
        return any(count >= self.count_cap for count in self.counts.values())


def encode_cursor(key: SortKey) -> str:
    """An opaque, URL-safe cursor for a row's position in the queue."""
    rank, priority, clock_start, item_id = key
    raw = json.dumps([rank, priority, clock_start.isoformat(), item_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    """The sort key inside a cursor; a tampered or stale cursor is an input error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        rank, priority, clock_start, item_id = json.loads(base64.urlsafe_b64decode(padded))
        return (int(rank), int(priority), dt.date.fromisoformat(clock_start), int(item_id))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInputError("That page link is not valid; start again from the top.") from exc


def rank_for_reason(reason: str) -> int:
    """The queue rank every item with ``reason`` has (see ``app/review/intake.py``)."""
    for outcome, rank in REVIEW_RANK.items():
        if outcome.value == reason:
            return rank
    return CHANGE_OF_MIND_RANK


def _filter_clauses(filters: QueueFilters, *, with_reason: bool) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [ReviewItem.status == ReviewStatus.OPEN]
    if filters.campaign_id is not None:
        clauses.append(ReviewItem.campaign_id == filters.campaign_id)
    if filters.specialty_code:
        clauses.append(ReviewItem.specialty_code == filters.specialty_code)
    if filters.provider_code:
        clauses.append(ReviewItem.provider_code == filters.provider_code)
    if with_reason and filters.reason:
        clauses.append(ReviewItem.reason == filters.reason)
        # The reason fixes the rank, which lets the database seek the queue index to it.
        clauses.append(ReviewItem.rank == rank_for_reason(filters.reason))
    return clauses


def _after(key: SortKey) -> ColumnElement[bool]:
    # A row-value comparison: SQLite (3.15+) and PostgreSQL both seek the queue index to it.
    return tuple_(*SORT_KEY) > tuple_(*key)


def _before(key: SortKey) -> ColumnElement[bool]:
    return tuple_(*SORT_KEY) < tuple_(*key)


def _page_ids(
    filters: QueueFilters, *, after: SortKey | None, before: SortKey | None, limit: int
) -> Select[int, int, dt.date, int]:
    query = select(*SORT_KEY).where(*_filter_clauses(filters, with_reason=True))
    if before is not None:
        return query.where(_before(before)).order_by(*(c.desc() for c in SORT_KEY)).limit(limit)
    if after is not None:
        query = query.where(_after(after))
    return query.order_by(*SORT_KEY).limit(limit)


def count_by_reason(
    session: Session, *, filters: QueueFilters, cap: int = COUNT_CAP
) -> dict[str, int]:
    """Open items per reason, each counted up to ``cap`` (``cap`` means "that many or more").

    The reason filter itself is ignored, so every tab has a count. Counting stops at the cap
    because an exact count of a national backlog costs a scan of every open item per page view.
    """
    counts: dict[str, int] = {}
    for reason in QUEUE_REASONS:
        matching = (
            select(ReviewItem.id)
            .where(*_filter_clauses(filters, with_reason=False), ReviewItem.reason == reason)
            .limit(cap)
            .subquery()
        )
        count = session.scalar(select(func.count()).select_from(matching)) or 0
        if count or reason != Outcome.STAY.value:
            counts[reason] = count
    return counts


def list_queue(
    session: Session,
    *,
    filters: QueueFilters | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
    count_cap: int = COUNT_CAP,
    now: dt.datetime | None = None,
) -> QueuePage:
    """One page of open review items in queue order, after or before a cursor."""
    if session.get_transaction() is None:
        session.connection(execution_options=READ_ONLY)
    filters = filters or QueueFilters()
    now = now or utcnow()
    after_key = decode_cursor(after) if after else None
    before_key = decode_cursor(before) if before else None
    keys: list[SortKey] = [
        (r, p, c, i)
        for r, p, c, i in session.execute(
            _page_ids(filters, after=after_key, before=before_key, limit=limit + 1)
        ).all()
    ]
    more = len(keys) > limit
    keys = keys[:limit]
    if before_key is not None:
        keys.reverse()
    rows = _load_rows(session, [k[3] for k in keys], now=now)
    rows.sort(key=lambda row: row.sort_key)
    next_cursor = previous_cursor = None
    if rows:
        first, last = encode_cursor(rows[0].sort_key), encode_cursor(rows[-1].sort_key)
        if before_key is not None:
            # Going back there is always a page after this one: the one we came from.
            next_cursor, previous_cursor = last, first if more else None
        else:
            next_cursor, previous_cursor = last if more else None, first if after_key else None
    return QueuePage(
        rows=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        counts=count_by_reason(session, filters=filters, cap=count_cap),
        count_cap=count_cap,
    )


def _load_rows(session: Session, ids: list[int], *, now: dt.datetime) -> list[QueueRow]:
    if not ids:
        return []
    # Columns, not entities: building 150 ORM objects per page costs more than the query.
    result = session.execute(
        select(
            ReviewItem.id,
            ReviewItem.version,
            ReviewItem.reason,
            ReviewItem.rank,
            ReviewItem.priority_rank,
            ReviewItem.provider_code,
            ReviewItem.specialty_code,
            ReviewItem.clock_start_date,
            ReviewItem.opened_at,
            ReviewItem.due_at,
            Pathway.priority,
            Pathway.pathway_id,
            Pathway.specialty_name,
            Patient.given_name,
            Patient.family_name,
            Patient.nhs_number,
            Patient.date_of_birth,
            ReviewItem.pathway_id.label("pathway_row_id"),
            Campaign.name.label("campaign_name"),
        )
        .join(Pathway, Pathway.id == ReviewItem.pathway_id)
        .join(Patient, Patient.id == Pathway.patient_id)
        .outerjoin(Campaign, Campaign.id == ReviewItem.campaign_id)
        .where(ReviewItem.id.in_(ids))
    ).all()
    today = now.date()
    answers = _latest_answers(session, [row.pathway_row_id for row in result])
    return [
        QueueRow(
            item_id=row.id,
            version=row.version,
            reason=row.reason,
            priority=row.priority,
            provider_code=row.provider_code,
            pathway_ref=row.pathway_id,
            specialty_code=row.specialty_code,
            specialty_name=row.specialty_name,
            patient_name=f"{row.given_name} {row.family_name}",
            nhs_number=row.nhs_number,
            clock_start_date=row.clock_start_date,
            weeks_waiting=(today - row.clock_start_date).days // 7,
            opened_at=row.opened_at,
            due_at=row.due_at,
            overdue=row.due_at < now,
            sort_key=(row.rank, row.priority_rank, row.clock_start_date, row.id),
            age=age_on(row.date_of_birth, today),
            campaign_name=row.campaign_name,
            answer=answers.get(row.pathway_row_id),
        )
        for row in result
    ]


def _latest_answers(session: Session, pathway_ids: list[int]) -> dict[int, LatestAnswer]:
    """Per pathway, the newest answer in the patient's own words or keys (never a redacted one)."""
    if not pathway_ids:
        return {}
    rows = session.execute(
        select(Answer.pathway_id, Answer.raw_input, Answer.input_kind, Answer.interpretation)
        .where(Answer.pathway_id.in_(pathway_ids), Answer.raw_input.is_not(None))
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
    ).all()
    latest: dict[int, LatestAnswer] = {}
    for pathway_id, raw, kind, meaning in rows:
        if pathway_id not in latest and raw:
            latest[pathway_id] = LatestAnswer(text=raw, kind=kind, meaning=meaning)
    return latest


def next_open_item(session: Session, *, filters: QueueFilters, after_item_id: int) -> int | None:
    """The open item that follows ``after_item_id`` in the filtered queue (or its first one).

    Used after a decision: the item just decided has left the queue, but its place in the order
    is still known, so the clinician carries on from there rather than from the top.
    """
    clauses = _filter_clauses(filters, with_reason=True)
    item = session.get(ReviewItem, after_item_id)
    if item is not None:
        key: SortKey = (item.rank, item.priority_rank, item.clock_start_date, item.id)
        following = session.scalar(
            select(ReviewItem.id).where(*clauses, _after(key)).order_by(*SORT_KEY).limit(1)
        )
        if following is not None:
            return following
    return session.scalar(
        select(ReviewItem.id)
        .where(*clauses, ReviewItem.id != after_item_id)
        .order_by(*SORT_KEY)
        .limit(1)
    )
