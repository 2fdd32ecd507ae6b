"""``/api/v1/schedules``: a coordinator's job creates and runs a rolling schedule."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Outcome, Role
from app.outcomes.service import record_outcome
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


async def test_the_rounds_report_shows_willingness_to_travel_and_hides_small_groups(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = make_cohort(db_session)
    for specialty, people in (("110", 12), ("120", 10)):
        for n in range(people):
            pathway = make_pathway(db_session, cohort=cohort, specialty_code=specialty)
            record_outcome(
                db_session,
                pathway=pathway,
                outcome=Outcome.STAY,
                recorded={"willing_to_travel": n < 8},
            )
    lonely = make_pathway(db_session, cohort=cohort, specialty_code="130")
    record_outcome(
        db_session, pathway=lonely, outcome=Outcome.STAY, recorded={"willing_to_travel": True}
    )
    headers = bearer(db_session, Role.CLINICIAN)

    response = await client.get(
        "/api/v1/reports/rounds", params={"cohort_id": cohort.id}, headers=headers
    )

    assert response.status_code == 200, response.text
    document = response.json()
    # The one-patient specialty is hidden, and the next smallest with it (else it could be
    # worked out from the total).
    [aid] = document["mutual_aid"]
    assert (aid["specialty_code"], aid["asked"], aid["willing"]) == ("110", 12, 8)
    assert document["suppressed_groups"] == 4
    assert {row["specialty_code"] for row in document["round_trend"]} == {"110"}
