"""``/api/v1/worklist``: list, filter, close and validate, with tokens and audit."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Outcome, Role, TaskState, WorklistTask
from app.outcomes.service import record_outcome
from app.users.tokens import issue_api_token
from tests.support.factories import make_pathway
from tests.support.users import make_service_account

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def bearer(session: Session, role: Role) -> dict[str, str]:
    account = make_service_account(session, username=f"worklist-{role.value}", role=role)
    token = issue_api_token(session, user=account, name="worklist tests")
    return {"Authorization": f"Bearer {token.value}"}


def _task(session: Session, outcome: Outcome) -> WorklistTask:
    pathway = make_pathway(session)
    record_outcome(session, pathway=pathway, outcome=outcome, now=NOW)
    return session.scalars(select(WorklistTask).where(WorklistTask.pathway_id == pathway.id)).one()


async def test_the_api_lists_tasks_with_counts_and_audits_them(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    task = _task(db_session, Outcome.CALLBACK_REQUESTED)
    _task(db_session, Outcome.UNVERIFIED)
    headers = bearer(db_session, Role.COORDINATOR)

    response = await client.get(
        "/api/v1/worklist", params={"reason": "callback_requested"}, headers=headers
    )

    body = response.json()
    assert response.status_code == 200
    assert [t["id"] for t in body["tasks"]] == [task.id]
    assert body["by_reason"]["unverified"] == 1
    assert body["by_reason"]["callback_requested"] == 1
    assert db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "worklist_task.viewed", AuditEvent.entity_id == str(task.id)
        )
    ).all()


async def test_the_api_records_a_telephone_validation(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    task = _task(db_session, Outcome.UNVERIFIED)
    headers = bearer(db_session, Role.COORDINATOR)

    response = await client.post(
        f"/api/v1/worklist/{task.id}/validation",
        json={
            "identity_confirmed": True,
            "answers": {"still_needed": "1", "condition": "3", "mutual_aid": "1"},
        },
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "stay"
    db_session.refresh(task)
    assert task.state == TaskState.DONE


async def test_closing_twice_is_a_conflict_and_an_admin_may_not_close(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    task = _task(db_session, Outcome.UNCLEAR)
    admin = bearer(db_session, Role.ADMIN)
    coordinator = bearer(db_session, Role.COORDINATOR)
    body = {"outcome": "passed_to_clinician", "note": "Dr A will ring"}

    refused = await client.post(f"/api/v1/worklist/{task.id}/complete", json=body, headers=admin)
    first = await client.post(
        f"/api/v1/worklist/{task.id}/complete", json=body, headers=coordinator
    )
    second = await client.post(
        f"/api/v1/worklist/{task.id}/complete", json=body, headers=coordinator
    )

    assert (refused.status_code, first.status_code, second.status_code) == (403, 200, 409)
    assert first.json()["state"] == "done"


async def test_the_api_filters_overdue_tasks_and_counts_them(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    late = make_pathway(db_session)
    record_outcome(
        db_session,
        pathway=late,
        outcome=Outcome.CALLBACK_REQUESTED,
        recorded={"condition": "worse"},
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
    )
    record_outcome(db_session, pathway=make_pathway(db_session), outcome=Outcome.OPTED_OUT)
    headers = bearer(db_session, Role.COORDINATOR)

    everything = (await client.get("/api/v1/worklist", headers=headers)).json()
    overdue = (await client.get("/api/v1/worklist?overdue=true", headers=headers)).json()

    assert everything["total"] == 2 and everything["overdue"] == 1
    assert everything["tasks"][0]["pathway_id"] == late.id  # overdue first
    assert [t["pathway_id"] for t in overdue["tasks"]] == [late.id]
    [task] = overdue["tasks"]
    assert (task["overdue"], task["safety_critical"], task["escalated_at"]) == (True, True, None)
