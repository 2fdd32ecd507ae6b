from __future__ import annotations

import re

import httpx
from sqlalchemy.orm import Session

from app.models import Campaign, CampaignStatus
from tests.support.campaign_factories import make_campaign
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in
from tests.web.test_campaign_api import running_campaign_with_progress


async def signed_in_as(client: httpx.AsyncClient, personas: Personas, name: str) -> None:
    response = await sign_in(client, name, personas.passwords[name])
    assert response.status_code == 303, response.text


def status_of(session: Session, campaign: Campaign) -> CampaignStatus:
    session.expire_all()
    return session.get_one(Campaign, campaign.id).status


def cells(html: str, table_id: str) -> dict[str, str]:
    """The rows of a two-column table, label to value."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    pairs = re.findall(r"<td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", table)
    return dict(pairs)


async def test_a_signed_out_browser_sees_nothing_and_changes_nothing(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    campaign = running_campaign_with_progress(db_session)
    for path in ("/campaigns", f"/campaigns/{campaign.id}", f"/campaigns/{campaign.id}/cancel"):
        response = await page_client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")
        assert "Orthopaedics" not in response.text
    posted = await page_client.post(f"/campaigns/{campaign.id}/pause", data={})
    assert posted.status_code in (303, 403)
    assert status_of(db_session, campaign) == CampaignStatus.RUNNING


async def test_the_list_shows_status_and_progress_and_escapes_names(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    make_campaign(db_session, name="Demo run", simulated=True, status=CampaignStatus.DRAFT)
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.get("/campaigns")

    assert response.status_code == 200
    assert "Orthopaedics <autumn>" not in response.text
    row = response.text.split(f'data-campaign="{campaign.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Orthopaedics &lt;autumn&gt;" in row
    assert "Running" in row
    assert "Simulated" not in row
    numbers = re.findall(r"cell--numeric\">(?:<span[^>]*>[^<]*</span>)?([^<]*)</td>", row)
    assert numbers == ["3", "2", "3 of 4"]
    demo = response.text.split("Demo run", 1)[1].split("</tr>", 1)[0]
    assert "Simulated" in demo and "Draft" in demo


async def test_the_detail_shows_live_counts_links_and_refreshes_while_running(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.get(f"/campaigns/{campaign.id}")

    html = response.text
    assert response.status_code == 200
    assert "Orthopaedics &lt;autumn&gt;" in html
    assert "Orthopaedics <autumn>" not in html
    assert cells(html, "attempts") == {"Completed": "1", "No answer": "2", "Planned": "1"}
    assert cells(html, "outcomes") == {
        "No outcome yet": "1",
        "Still needs treatment": "1",
        "Unreachable": "1",
    }
    assert re.search(r"Unreachable after every attempt</dt>\s*<dd[^>]*>1</dd>", html)
    assert f'href="/reports/campaigns/{campaign.id}"' in html
    assert f'href="/review?campaign={campaign.id}"' in html
    assert 'http-equiv="refresh"' not in html
    assert f'data-poll-url="/campaigns/{campaign.id}/progress"' in html
    assert '<script type="module" src="/static/live-progress.js">' in html
    assert "Waiting for calling hours" in html or "Contacts are going out now" in html
    fragment = await page_client.get(f"/campaigns/{campaign.id}/progress")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert cells(fragment.text, "attempts") == cells(html, "attempts")
    # A clinician reads but gets no controls.
    assert f'action="/campaigns/{campaign.id}/pause"' not in html
    assert "Simulated" not in html


async def test_a_simulated_draft_is_marked_and_does_not_refresh(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = make_campaign(db_session, simulated=True, status=CampaignStatus.DRAFT)
    await signed_in_as(page_client, personas, "bob")

    html = (await page_client.get(f"/campaigns/{campaign.id}")).text

    assert "This is a simulated campaign" in html
    assert "data-poll-url" not in html
    assert f'action="/campaigns/{campaign.id}/start"' in html
    assert f'href="/campaigns/{campaign.id}/cancel"' in html


async def test_a_coordinator_pauses_then_resumes(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    await signed_in_as(page_client, personas, "bob")

    page = await page_client.get(f"/campaigns/{campaign.id}")
    paused = await page_client.post(
        f"/campaigns/{campaign.id}/pause", data={"csrf_token": csrf_token_in(page.text)}
    )
    after_pause = status_of(db_session, campaign)
    landing = await page_client.get(paused.headers["location"])
    resumed = await page_client.post(
        f"/campaigns/{campaign.id}/resume", data={"csrf_token": csrf_token_in(landing.text)}
    )

    assert paused.status_code == 303
    assert after_pause == CampaignStatus.PAUSED
    assert "Campaign paused" in landing.text
    assert "data-poll-url" not in landing.text
    reloaded = await page_client.get(paused.headers["location"])
    assert "Campaign paused" not in reloaded.text
    assert f'action="/campaigns/{campaign.id}/resume"' in landing.text
    assert resumed.status_code == 303
    assert status_of(db_session, campaign) == CampaignStatus.RUNNING


async def test_a_post_without_the_csrf_token_changes_nothing(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    await signed_in_as(page_client, personas, "bob")

    response = await page_client.post(f"/campaigns/{campaign.id}/pause", data={})
    forged = await page_client.post(
        f"/campaigns/{campaign.id}/pause", data={"csrf_token": "not-the-token"}
    )

    assert response.status_code == 403
    assert forged.status_code == 403
    assert status_of(db_session, campaign) == CampaignStatus.RUNNING


async def test_a_clinician_cannot_pause_or_start(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    running = running_campaign_with_progress(db_session)
    draft = make_campaign(db_session, status=CampaignStatus.DRAFT)
    await signed_in_as(page_client, personas, "alice")
    token = csrf_token_in((await page_client.get("/")).text)

    paused = await page_client.post(f"/campaigns/{running.id}/pause", data={"csrf_token": token})
    started = await page_client.post(f"/campaigns/{draft.id}/start", data={"csrf_token": token})
    confirm = await page_client.get(f"/campaigns/{running.id}/cancel")

    assert (paused.status_code, started.status_code, confirm.status_code) == (403, 403, 403)
    assert status_of(db_session, running) == CampaignStatus.RUNNING
    assert status_of(db_session, draft) == CampaignStatus.DRAFT


async def test_cancelling_asks_for_confirmation_first(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = running_campaign_with_progress(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get(f"/campaigns/{campaign.id}")).text)

    unconfirmed = await page_client.post(
        f"/campaigns/{campaign.id}/cancel", data={"csrf_token": token}
    )
    still_running = status_of(db_session, campaign)
    question = await page_client.get(unconfirmed.headers["location"])
    confirmed = await page_client.post(
        f"/campaigns/{campaign.id}/cancel",
        data={"csrf_token": csrf_token_in(question.text), "confirm": "yes"},
    )

    assert unconfirmed.status_code == 303
    assert still_running == CampaignStatus.RUNNING
    assert "This cannot be undone" in question.text
    assert confirmed.status_code == 303
    assert status_of(db_session, campaign) == CampaignStatus.CANCELLED


async def test_an_action_the_state_does_not_allow_is_refused_with_the_reason(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    campaign = make_campaign(db_session, status=CampaignStatus.PAUSED)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get(f"/campaigns/{campaign.id}")).text)

    response = await page_client.post(f"/campaigns/{campaign.id}/pause", data={"csrf_token": token})

    assert response.status_code == 409
    assert "Nothing was changed" in response.text
    assert "cannot become paused" in response.text
    assert status_of(db_session, campaign) == CampaignStatus.PAUSED


async def test_an_unknown_campaign_shows_the_not_found_page(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/")).text)

    shown = await page_client.get("/campaigns/999999")
    posted = await page_client.post("/campaigns/999999/pause", data={"csrf_token": token})

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert "text/html" in shown.headers["content-type"]
    assert "text/html" in posted.headers["content-type"]
