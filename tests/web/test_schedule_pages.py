"""Schedule pages and the dashboard's rolling-validation counts, as staff see them."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.orm import Session

from app.campaigns.schedules import create_schedule
from app.config import Settings
from app.db import utcnow
from app.flows import load_registry
from tests.support.factories import make_cohort, make_pathway
from tests.support.users import Personas
from tests.support.web import sign_in


async def test_staff_see_each_schedule_and_what_falls_due_next_week(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, settings: Settings
) -> None:
    cohort = make_cohort(db_session)
    soon = utcnow().date() - dt.timedelta(weeks=12) + dt.timedelta(days=3)
    make_pathway(db_session, cohort=cohort, clock_start_date=soon, pathway_id="RXX-SOON-1")
    schedule = create_schedule(
        db_session,
        registry=load_registry(settings.flows_path),
        name="North <rolling>",
        cohort_id=cohort.id,
        flow_id="standard-validation",
        provider_name="simulator",
        account_calls_per_second=1.0,
        created_by="test",
    )
    await sign_in(page_client, "bob", personas.passwords["bob"])

    listing = await page_client.get("/schedules")
    shown = await page_client.get(f"/schedules/{schedule.id}")
    dashboard = await page_client.get("/dashboard")

    assert listing.status_code == 200
    assert "North &lt;rolling&gt;" in listing.text
    assert shown.status_code == 200
    assert "RXX-SOON-1" in shown.text
    assert (await page_client.get("/schedules/999999")).status_code == 404
    assert 'id="rolling-validation"' in dashboard.text
    row = dashboard.text.split("Falls due next week</th>")[1].split("</td>")[0]
    assert row.endswith(">1")
