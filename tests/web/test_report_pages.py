"""Report pages and the report API: staff see them, nobody else does, and every view is audited."""

from __future__ import annotations

import csv

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, NoticeStatus, Outcome, Role
from app.users.tokens import issue_api_token
from tests.support.campaign_factories import make_attempt, make_campaign, make_outcome
from tests.support.factories import make_cohort, make_pathway
from tests.support.notices import make_notice
from tests.support.users import Personas, make_service_account
from tests.support.web import sign_in


def _campaign(session: Session) -> int:
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort, name="Orthopaedics <spring>")
    for n in range(12):
        pathway = make_pathway(session, cohort=cohort)
        make_attempt(session, campaign=campaign, pathway=pathway, answered=n < 9)
        outcome = Outcome.STAY if n < 9 else Outcome.UNREACHABLE
        make_outcome(session, campaign=campaign, pathway=pathway, outcome=outcome)
    return campaign.id


def _audited(session: Session, action: str, campaign_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.entity_id == str(campaign_id)
            )
        )
    )


async def test_a_signed_out_visitor_is_sent_to_sign_in(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign_id = _campaign(db_session)
    response = await page_client.get(f"/reports/campaigns/{campaign_id}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


async def test_a_clinician_sees_the_report_with_charts_and_tables(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign_id = _campaign(db_session)
    await sign_in(page_client, "alice", personas.passwords["alice"])

    response = await page_client.get(f"/reports/campaigns/{campaign_id}")

    assert response.status_code == 200
    html = response.text
    assert "<h1>Orthopaedics &lt;spring&gt;</h1>" in html
    assert 'role="img"' in html and "<title id=" in html
    assert "Pathways at each stage" in html
    assert "app-suppressed" not in html  # one group of twelve people in each breakdown
    assert "75% <span" in html  # nine of twelve responded
    assert ' style="' not in html
    (event,) = _audited(db_session, "report_viewed", campaign_id)
    assert event.actor == "alice"


async def test_the_csv_download_holds_the_reports_numbers(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign_id = _campaign(db_session)
    await sign_in(page_client, "bob", personas.passwords["bob"])

    response = await page_client.get(f"/reports/campaigns/{campaign_id}.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(response.text.splitlines()))
    assert ["funnel", "", "cohort", "12"] in rows
    assert ["funnel", "", "answered", "9"] in rows
    assert _audited(db_session, "report_downloaded", campaign_id)


async def test_an_unknown_campaign_is_not_found(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    response = await page_client.get("/reports/campaigns/987654")
    assert response.status_code == 404


async def test_the_dashboard_lists_campaigns_with_links_to_their_reports(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign_id = _campaign(db_session)
    await sign_in(page_client, "bob", personas.passwords["bob"])

    reports = await page_client.get("/reports")
    assert reports.status_code == 303 and reports.headers["location"] == "/dashboard"
    response = await page_client.get("/dashboard")

    assert response.status_code == 200
    assert f'href="/reports/campaigns/{campaign_id}"' in response.text
    assert "Due for validation" in response.text


async def test_the_api_answers_a_service_account_with_the_report_as_json(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign_id = _campaign(db_session)
    account = make_service_account(db_session, username="trust-bi", role=Role.COORDINATOR)
    token = issue_api_token(db_session, user=account, name="BI dashboard").value

    response = await client.get(
        f"/api/v1/campaigns/{campaign_id}/report", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    document = response.json()
    assert document["funnel"]["answered"] == 9
    assert document["usage"]["total_cost"] == "0.00"
    sex = next(b for b in document["equity"] if b["dimension"] == "sex")
    assert sex["groups"][0]["suppressed"] is False


async def test_the_api_refuses_a_request_without_a_token(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign_id = _campaign(db_session)
    response = await client.get(f"/api/v1/campaigns/{campaign_id}/report")
    assert response.status_code == 401


async def test_the_report_page_shows_the_campaigns_notices(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = make_cohort(db_session)
    campaign = make_campaign(db_session, cohort=cohort, name="Notices")
    call = make_attempt(
        db_session, campaign=campaign, pathway=make_pathway(db_session, cohort=cohort)
    )
    make_notice(db_session, attempt=call, status=NoticeStatus.SENT)
    await sign_in(page_client, "alice", personas.passwords["alice"])

    html = (await page_client.get(f"/reports/campaigns/{campaign.id}")).text

    assert '<h2 id="notices">Notices</h2>' in html and "Pre-call text" in html
