"""The unreachable patients of a campaign: who staff must telephone or write to, audited."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Campaign, Pathway, Patient
from app.phones import national_format
from tests.support.campaign_factories import make_campaign
from tests.support.users import Personas
from tests.support.web import sign_in
from tests.web.test_campaign_api import running_campaign_with_progress


def unreachable_patient(session: Session, campaign: Campaign) -> tuple[Pathway, Patient]:
    """The one pathway ``running_campaign_with_progress`` leaves unreachable, and its patient."""
    pathway = session.scalars(
        select(Pathway).where(
            Pathway.cohort_id == campaign.cohort_id, Pathway.outcome == "unreachable"
        )
    ).one()
    patient = session.get_one(Patient, pathway.patient_id)
    patient.given_name, patient.family_name = "Mary", "Seacole <script>"
    patient.landline_phone = "+442079460000"
    session.flush()
    return pathway, patient


def listings(session: Session) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "pathway.list_unreachable"))
    )


@pytest.mark.parametrize("username", ["alice", "bob", "charlie"])
async def test_any_staff_role_sees_who_to_contact_and_the_view_is_audited(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, username: str
) -> None:
    campaign = running_campaign_with_progress(db_session)
    pathway, patient = unreachable_patient(db_session, campaign)
    await sign_in(page_client, username, personas.passwords[username])

    response = await page_client.get(f"/campaigns/{campaign.id}/unreachable")

    html = response.text
    assert response.status_code == 200
    row = html.split(f'data-pathway="{pathway.id}"', 1)[1].split("</tr>", 1)[0]
    nhs = patient.nhs_number
    assert "Mary Seacole &lt;script&gt;" in row
    assert f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" in row
    assert f"{patient.mobile_phone} (mobile)" in row
    assert "+442079460000 (landline)" in row
    assert f"{pathway.pathway_id} (110)" in row
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">2</td>' in row
    assert "2 March 2026 09:00" in row
    assert "1 patient, longest unreachable first" in html
    (event,) = listings(db_session)
    assert (event.actor, event.pathway_id, event.entity_id) == (
        username,
        pathway.id,
        str(pathway.id),
    )


async def test_the_csv_holds_the_same_list_and_is_audited_too(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    pathway, patient = unreachable_patient(db_session, campaign)
    patient.given_name = "=HYPERLINK(1)"
    await sign_in(page_client, "alice", personas.passwords["alice"])

    response = await page_client.get(f"/campaigns/{campaign.id}/unreachable.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    nhs = patient.nhs_number
    assert rows == [
        {
            "name": "'=HYPERLINK(1) Seacole <script>",
            "nhs_number": f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
            "mobile_phone": national_format(patient.mobile_phone or ""),
            "landline_phone": "020 7946 0000",  # as dialled: "+44..." would become a number
            "pathway": pathway.pathway_id,
            "specialty_code": "110",
            "attempts": "2",
            "last_attempt_at": "2026-03-02T09:00:00+00:00",
            "unreachable_since": "2026-03-02T09:00:00+00:00",
        }
    ]
    assert [event.pathway_id for event in listings(db_session)] == [pathway.id]


async def test_the_campaign_page_links_to_the_list_beside_the_count(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    nobody = make_campaign(db_session)
    await sign_in(page_client, "alice", personas.passwords["alice"])

    with_some = (await page_client.get(f"/campaigns/{campaign.id}")).text
    without = (await page_client.get(f"/campaigns/{nobody.id}")).text
    empty = (await page_client.get(f"/campaigns/{nobody.id}/unreachable")).text

    after_count = with_some.split("Unreachable after every attempt", 1)[1]
    assert f'href="/campaigns/{campaign.id}/unreachable"' in after_count.split("<h2>", 1)[0]
    assert f'href="/campaigns/{nobody.id}/unreachable"' not in without
    assert "No patient in this campaign is unreachable." in empty
    # Opening the campaign page shows only a count: no patient record, no audit event.
    assert listings(db_session) == []


async def test_a_signed_out_browser_sees_no_patient_and_nothing_is_audited(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    unreachable_patient(db_session, campaign)

    for path in ("unreachable", "unreachable.csv"):
        response = await page_client.get(f"/campaigns/{campaign.id}/{path}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")
        assert "Seacole" not in response.text
    assert listings(db_session) == []


async def test_an_unknown_campaign_is_not_found(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    await sign_in(page_client, "bob", personas.passwords["bob"])

    page = await page_client.get("/campaigns/999999/unreachable")
    download = await page_client.get("/campaigns/999999/unreachable.csv")

    assert (page.status_code, download.status_code) == (404, 404)
