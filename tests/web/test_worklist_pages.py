"""The worklist pages: who to follow up and why, with counts, actions, CSV and letters."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AuditEvent,
    Letter,
    Outcome,
    Pathway,
    ReviewItem,
    ReviewStatus,
    TaskReason,
    TaskState,
    WorklistTask,
)
from app.outcomes.service import record_outcome
from tests.support.factories import make_pathway
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _task(session: Session, outcome: Outcome, **fields: Any) -> tuple[Pathway, WorklistTask]:
    pathway = make_pathway(session, specialty_name="Trauma and Orthopaedics", **fields)
    record_outcome(session, pathway=pathway, outcome=outcome, now=NOW)
    task = session.scalars(
        select(WorklistTask)
        .where(WorklistTask.pathway_id == pathway.id, WorklistTask.reason != TaskReason.LETTER)
        .order_by(WorklistTask.id)
    ).first()
    assert task is not None
    return pathway, task


@pytest.mark.parametrize("username", ["alice", "bob", "charlie"])
async def test_staff_see_the_list_with_counts_and_the_view_is_audited(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, username: str
) -> None:
    pathway, task = _task(db_session, Outcome.UNVERIFIED, given_name="Mary <b>")
    _task(db_session, Outcome.CALLBACK_REQUESTED)
    await sign_in(page_client, username, personas.passwords[username])

    response = await page_client.get("/worklist")

    html = response.text
    assert response.status_code == 200
    row = html.split(f'data-task="{task.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Mary &lt;b&gt; Testpatient" in row
    assert "Identity not confirmed on the call" in row
    counts = html.split('id="reason-counts"', 1)[1].split("</ul>", 1)[0]
    assert "Identity not confirmed on the call: 1" in counts
    assert "Patient asked to be called back: 1" in counts
    viewed = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "worklist_task.viewed", AuditEvent.pathway_id == pathway.id
        )
    ).all()
    assert [event.actor for event in viewed] == [username]


async def test_the_filter_by_reason_narrows_the_list(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    _, unverified = _task(db_session, Outcome.UNVERIFIED)
    _, callback = _task(db_session, Outcome.CALLBACK_REQUESTED)
    await sign_in(page_client, "bob", personas.passwords["bob"])

    html = (await page_client.get("/worklist?reason=callback_requested")).text

    assert f'data-task="{callback.id}"' in html
    assert f'data-task="{unverified.id}"' not in html


async def test_the_csv_holds_the_tasks_safely(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    _, task = _task(db_session, Outcome.UNCLEAR, given_name="=HYPERLINK(1)")
    await sign_in(page_client, "bob", personas.passwords["bob"])

    response = await page_client.get("/worklist.csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    [row] = [r for r in rows if r["task"] == str(task.id)]
    assert row["reason"] == "unclear"
    assert row["name"].startswith("'=HYPERLINK")


async def test_a_coordinator_records_a_telephone_validation_that_goes_to_review(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    pathway, task = _task(db_session, Outcome.UNVERIFIED)
    await sign_in(page_client, "bob", personas.passwords["bob"])
    page = await page_client.get(f"/worklist/{task.id}")
    assert "Do you still need this treatment?" in page.text

    response = await page_client.post(
        f"/worklist/{task.id}/validation",
        data={
            "csrf_token": csrf_token_in(page.text),
            "identity_confirmed": "yes",
            "answer-still_needed": "2",
        },
    )

    assert response.status_code == 303
    db_session.refresh(task)
    assert (task.state, task.outcome) == (TaskState.DONE, "validated_leave")
    item = db_session.scalars(
        select(ReviewItem).where(
            ReviewItem.pathway_id == pathway.id, ReviewItem.status == ReviewStatus.OPEN
        )
    ).one()
    assert item.reason == "leave"


async def test_a_validation_without_the_needed_answer_is_shown_again(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    _, task = _task(db_session, Outcome.UNVERIFIED)
    await sign_in(page_client, "bob", personas.passwords["bob"])
    page = await page_client.get(f"/worklist/{task.id}")

    response = await page_client.post(
        f"/worklist/{task.id}/validation",
        data={
            "csrf_token": csrf_token_in(page.text),
            "identity_confirmed": "yes",
            "answer-still_needed": "1",
        },
    )

    assert response.status_code == 422
    assert "condition" in response.text
    db_session.refresh(task)
    assert task.state == TaskState.OPEN


async def test_an_administrator_cannot_close_a_task(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    _, task = _task(db_session, Outcome.UNVERIFIED)
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    page = await page_client.get(f"/worklist/{task.id}")
    assert "Close the task" not in page.text

    response = await page_client.post(
        f"/worklist/{task.id}/complete",
        data={"csrf_token": csrf_token_in(page.text), "outcome": "not_needed", "note": "x"},
    )

    assert response.status_code == 403
    db_session.refresh(task)
    assert task.state == TaskState.OPEN


async def test_a_non_responder_letter_prints_and_is_marked_sent(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    pathway, _ = _task(db_session, Outcome.UNREACHABLE, given_name="Gwenllian")
    letter = db_session.scalars(select(Letter).where(Letter.pathway_id == pathway.id)).one()
    letter_task = db_session.scalars(
        select(WorklistTask).where(WorklistTask.letter_id == letter.id)
    ).one()
    await sign_in(page_client, "bob", personas.passwords["bob"])

    pdf = await page_client.get(f"/worklist/letters/{letter.id}.pdf")
    batch = await page_client.get("/worklist/letters.pdf")

    assert pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Gwenllian Testpatient" in text
    assert "could not reach you" in text
    assert "23 November 2026" in text
    assert any(
        "Gwenllian" in page.extract_text() for page in PdfReader(io.BytesIO(batch.content)).pages
    )
    page = await page_client.get(f"/worklist/{letter_task.id}")
    response = await page_client.post(
        f"/worklist/{letter_task.id}/letter-sent",
        data={"csrf_token": csrf_token_in(page.text), "letter_id": str(letter.id)},
    )
    assert response.status_code == 303
    db_session.refresh(letter)
    db_session.refresh(letter_task)
    assert letter.sent_at is not None and letter_task.state == TaskState.DONE
    printed = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "letter.printed")
    ).all()
    assert len(printed) >= 2


def _task_opened(session: Session, outcome: Outcome, *, days_ago: int) -> WorklistTask:
    pathway = make_pathway(session)
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    record_outcome(session, pathway=pathway, outcome=outcome, now=opened)
    return session.scalars(
        select(WorklistTask).where(
            WorklistTask.pathway_id == pathway.id, WorklistTask.reason != TaskReason.LETTER
        )
    ).one()


async def test_overdue_tasks_are_counted_filtered_first_and_in_the_csv(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    fresh = _task_opened(db_session, Outcome.OPTED_OUT, days_ago=0)
    late = _task_opened(db_session, Outcome.UNVERIFIED, days_ago=30)
    await sign_in(page_client, "bob", personas.passwords["bob"])

    html = (await page_client.get("/worklist")).text
    overdue_only = (await page_client.get("/worklist?overdue=yes")).text
    rows = list(csv.DictReader(io.StringIO((await page_client.get("/worklist.csv")).text)))

    assert "Overdue: 1" in html.split('id="overdue-count"', 1)[1].split("</p>", 1)[0]
    assert html.index(f'data-task="{late.id}"') < html.index(f'data-task="{fresh.id}"')
    assert f'data-task="{late.id}"' in overdue_only
    assert f'data-task="{fresh.id}"' not in overdue_only
    by_task = {row["task"]: row for row in rows}
    assert by_task[str(late.id)]["overdue"] == "yes"
    assert by_task[str(fresh.id)]["overdue"] == ""
    assert by_task[str(late.id)]["escalated_at"] == ""  # the worker escalates, not a view


async def test_the_dashboard_shows_overdue_worklist_tasks_by_reason(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    _task_opened(db_session, Outcome.UNVERIFIED, days_ago=30)
    _task_opened(db_session, Outcome.OPTED_OUT, days_ago=0)
    await sign_in(page_client, "bob", personas.passwords["bob"])

    html = (await page_client.get("/dashboard")).text

    table = html.split('id="overdue-tasks"', 1)[1].split("</table>", 1)[0]
    assert 'data-reason="unverified"' in table
    assert 'data-reason="opted_out"' not in table
    assert "/worklist?reason=unverified&amp;overdue=yes" in table
