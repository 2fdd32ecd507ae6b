"""``/api/v1/schedules``: a coordinator's job creates and runs a rolling schedule."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Role
from tests.support.factories import make_cohort, make_pathway
from tests.web.test_campaign_api import bearer


async def test_a_coordinator_creates_a_schedule_and_staff_read_what_is_due(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = make_cohort(db_session)
    today = utcnow().date()
    make_pathway(db_session, cohort=cohort, clock_start_date=today - dt.timedelta(weeks=20))
    make_pathway(
        db_session, cohort=cohort, clock_start_date=today - dt.timedelta(weeks=12) + dt.timedelta(3)
    )
    coordinator, clinician = (
        bearer(db_session, Role.COORDINATOR),
        bearer(db_session, Role.CLINICIAN),
    )
    body = {
        "name": "North rolling",
        "cohort_id": cohort.id,
        "flow_id": "standard-validation",
        "simulated": True,
        "calling_windows": {"timezone": "Europe/London", "weekly": {}, "always_open": True},
    }

    refused = await client.post("/api/v1/schedules", json=body, headers=clinician)
    created = await client.post("/api/v1/schedules", json=body, headers=coordinator)
    twice = await client.post("/api/v1/schedules", json=body, headers=coordinator)

    assert refused.status_code == 403
    assert created.status_code == 201, created.text
    assert twice.status_code == 409, "one schedule per cohort"
    schedule = created.json()
    assert (schedule["due"]["overdue"], schedule["due"]["due_next_week"]) == (1, 1)
    shown = await client.get(f"/api/v1/schedules/{schedule['id']}", headers=clinician)
    assert [row["next_due_date"] for row in shown.json()["next_due"]] == sorted(
        row["next_due_date"] for row in shown.json()["next_due"]
    )
    ran = await client.post(f"/api/v1/schedules/{schedule['id']}/run", headers=coordinator)
    assert ran.status_code == 200, ran.text
    assert ran.json()["planned"] == 2, "the overdue one and the one due within the window"
    assert (await client.get("/api/v1/schedules")).status_code == 401
