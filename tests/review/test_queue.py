from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from app.errors import InvalidInputError
from app.models import CallScript, Campaign, Outcome, ReviewItem
from app.outcomes.service import record_outcome
from app.review.queue import QueueFilters, list_queue
from tests.review.conftest import MONDAY_NOON, queue_pathway
from tests.support.factories import make_cohort, make_pathway


def ids(items: list[ReviewItem]) -> list[int]:
    return [item.id for item in items]


def walk_forward(session: Session, *, limit: int, filters: QueueFilters | None = None) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = list_queue(session, filters=filters, after=cursor, limit=limit, now=MONDAY_NOON)
        seen += [row.item_id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_worsened_comes_first_then_priority_then_longest_wait(db_session: Session) -> None:
    unclear = queue_pathway(db_session, outcome=Outcome.UNCLEAR, priority="P1")
    leave_p2_recent = queue_pathway(db_session, priority="P2", clock_start_date=dt.date(2025, 6, 1))
    leave_p2_long = queue_pathway(db_session, priority="P2", clock_start_date=dt.date(2024, 6, 1))
    leave_p1 = queue_pathway(db_session, priority="P1", clock_start_date=dt.date(2025, 9, 1))
    leave_unknown = queue_pathway(db_session, priority=None)
    worsened_p4 = queue_pathway(db_session, outcome=Outcome.WORSENED, priority="P4")

    page = list_queue(db_session, now=MONDAY_NOON)

    assert [row.item_id for row in page.rows] == ids(
        [worsened_p4, leave_p1, leave_p2_long, leave_p2_recent, leave_unknown, unclear]
    )


def test_it_filters_by_specialty_provider_and_reason(db_session: Session) -> None:
    ent = queue_pathway(db_session, specialty_code="120")
    queue_pathway(db_session, specialty_code="110")
    other_trust = queue_pathway(db_session, provider_code="RYY", pathway_id="RYY-1")
    worsened = queue_pathway(db_session, outcome=Outcome.WORSENED)

    def only(**filters: str) -> list[int]:
        chosen = QueueFilters(**filters)  # type: ignore[arg-type]
        page = list_queue(db_session, filters=chosen, now=MONDAY_NOON)
        return [row.item_id for row in page.rows]

    assert only(specialty_code="120") == [ent.id]
    assert only(provider_code="RYY") == [other_trust.id]
    assert only(reason="worsened") == [worsened.id]


def test_it_filters_by_campaign(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    script = CallScript(
        flow_id="validation", version=1, content_hash="0" * 64, title="t", language="en", content=""
    )
    db_session.add(script)
    db_session.flush()
    campaign = Campaign(name="Autumn", cohort_id=cohort.id, call_script_id=script.id)
    db_session.add(campaign)
    db_session.flush()
    in_campaign = make_pathway(db_session, cohort=cohort)
    record_outcome(
        db_session,
        pathway=in_campaign,
        outcome=Outcome.LEAVE,
        campaign_id=campaign.id,
        now=MONDAY_NOON,
    )
    queue_pathway(db_session)

    page = list_queue(db_session, filters=QueueFilters(campaign_id=campaign.id), now=MONDAY_NOON)

    assert [row.pathway_ref for row in page.rows] == [in_campaign.pathway_id]


def test_counts_per_reason_ignore_the_reason_filter(db_session: Session) -> None:
    for outcome in (Outcome.WORSENED, Outcome.LEAVE, Outcome.LEAVE, Outcome.UNCLEAR):
        queue_pathway(db_session, outcome=outcome)

    page = list_queue(db_session, filters=QueueFilters(reason="leave"), now=MONDAY_NOON)

    assert len(page.rows) == 2
    assert page.counts == {
        "worsened": 1,
        "reported_deceased": 0,
        "leave": 2,
        "unclear": 1,
        "callback_requested": 0,
    }
    assert page.total == 4


def test_keyset_pages_visit_every_item_once_in_order(db_session: Session) -> None:
    items = [
        queue_pathway(db_session, priority=f"P{1 + n % 4}", clock_start_date=dt.date(2025, 1, 1))
        for n in range(11)
    ]
    everything = [row.item_id for row in list_queue(db_session, limit=100, now=MONDAY_NOON).rows]

    assert walk_forward(db_session, limit=3) == everything
    assert sorted(everything) == sorted(ids(items))


def test_previous_goes_back_to_the_same_page(db_session: Session) -> None:
    for _ in range(7):
        queue_pathway(db_session)
    first = list_queue(db_session, limit=3, now=MONDAY_NOON)
    second = list_queue(db_session, after=first.next_cursor, limit=3, now=MONDAY_NOON)
    assert first.previous_cursor is None
    assert second.previous_cursor is not None

    back = list_queue(db_session, before=second.previous_cursor, limit=3, now=MONDAY_NOON)

    assert [r.item_id for r in back.rows] == [r.item_id for r in first.rows]
    assert back.previous_cursor is None
    assert back.next_cursor is not None


def test_a_page_is_stable_when_urgent_items_arrive_before_it(db_session: Session) -> None:
    for _ in range(6):
        queue_pathway(db_session, priority="P3")
    first = list_queue(db_session, limit=3, now=MONDAY_NOON)
    expected = list_queue(db_session, after=first.next_cursor, limit=3, now=MONDAY_NOON)

    queue_pathway(db_session, outcome=Outcome.WORSENED, priority="P1")
    queue_pathway(db_session, priority="P1")
    again = list_queue(db_session, after=first.next_cursor, limit=3, now=MONDAY_NOON)

    assert [r.item_id for r in again.rows] == [r.item_id for r in expected.rows]


def test_decided_items_leave_the_queue(db_session: Session) -> None:
    item = queue_pathway(db_session)
    item.status = item.status.DECIDED
    db_session.flush()

    assert list_queue(db_session, now=MONDAY_NOON).rows == []


def test_items_past_their_due_time_are_overdue_and_worsened_ones_urgent(
    db_session: Session,
) -> None:
    queue_pathway(db_session, outcome=Outcome.WORSENED)
    queue_pathway(db_session, outcome=Outcome.LEAVE)
    three_days_later = MONDAY_NOON + dt.timedelta(days=3)

    rows = list_queue(db_session, now=three_days_later).rows

    assert [(r.reason, r.overdue, r.urgent) for r in rows] == [
        ("worsened", True, True),
        ("leave", False, False),
    ]
    assert not any(r.overdue for r in list_queue(db_session, now=MONDAY_NOON).rows)


def test_a_tampered_cursor_is_refused(db_session: Session) -> None:
    with pytest.raises(InvalidInputError):
        list_queue(db_session, after="not-a-cursor", now=MONDAY_NOON)


def test_counts_stop_at_the_cap_and_say_so(db_session: Session) -> None:
    for _ in range(3):
        queue_pathway(db_session, outcome=Outcome.LEAVE)
    queue_pathway(db_session, outcome=Outcome.WORSENED)

    page = list_queue(db_session, count_cap=2, now=MONDAY_NOON)

    assert (page.counts["leave"], page.counts["worsened"]) == (2, 1)
    assert page.counts_capped
    assert not list_queue(db_session, now=MONDAY_NOON).counts_capped
