"""The coordinator's form to create a campaign: defaults, errors beside fields, the API's rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.flows import ScriptRegistry, load_script
from app.models import AuditEvent, CallScript, Campaign, Cohort
from app.web.pages.campaign_form import CampaignForm, parse_form
from tests.support.factories import make_cohort, make_pathway
from tests.support.notify_server import API_KEY, TEMPLATES
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in

MINIMAL = Path(__file__).resolve().parents[1] / "flows" / "scripts" / "minimal.yaml"


async def signed_in_as(client: httpx.AsyncClient, personas: Personas, name: str) -> None:
    response = await sign_in(client, name, personas.passwords[name])
    assert response.status_code == 303, response.text


def load_unapproved_script(app: FastAPI) -> None:
    """Add a loaded but unapproved script to the app's registry (the shipped ones are approved)."""
    context = app.state.conversation_context
    unapproved = load_script(MINIMAL, flows_path=MINIMAL.parent)
    registry = ScriptRegistry([*context.registry.all(), unapproved])
    app.state.conversation_context = dataclasses.replace(context, registry=registry)


def cohort_with_pathways(session: Session, name: str = "North PTL") -> Cohort:
    cohort = make_cohort(session, name)
    for _ in range(2):
        make_pathway(session, cohort=cohort)
    return cohort


def filled(cohort: Cohort, token: str, **changes: str) -> dict[str, str]:
    """The form as a coordinator would send it, with ``changes`` typed over the defaults."""
    form = {
        "csrf_token": token,
        "name": "T&O spring",
        "cohort_id": str(cohort.id),
        "flow_id": "standard-validation",
        "starts_at": "2026-07-01T09:00",
        "windows_mon": "09:30-12:00, 13:00-18:00",
        "windows_tue": "09:00-19:00",
        "windows_wed": "09:00-19:00",
        "windows_thu": "09:00-19:00",
        "windows_fri": "09:00-19:00",
        "windows_sat": "",
        "policy_calls": "2",
        "policy_min_gap_hours": "5",
        "policy_sms": "no",
        "policy_sms_reply_hours": "24",
        "calls_per_second": "0.5",
    }
    return form | changes


def campaigns(session: Session) -> list[Campaign]:
    session.expire_all()
    return list(session.scalars(select(Campaign)))


def audit_actions(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]* name="{name}"[^>]*>', html)
    assert tag, f"no input {name}"
    value = re.search(r' value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def form_group_of(html: str, field: str) -> str:
    """The opening tag of the form group holding ``field``'s label."""
    before = html.split(f'for="{field}"', 1)[0]
    return before.rsplit('<div class="nhsuk-form-group', 1)[1].split(">", 1)[0]


async def test_the_form_is_prefilled_with_the_api_defaults_and_lists_only_approved_scripts(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, app: FastAPI
) -> None:
    cohort = cohort_with_pathways(db_session)
    load_unapproved_script(app)
    await signed_in_as(page_client, personas, "bob")

    response = await page_client.get("/campaigns/new")

    html = response.text
    assert response.status_code == 200
    assert input_value(html, "windows_mon") == "09:00-19:00"
    assert input_value(html, "windows_sat") == "10:00-16:00"
    assert 'name="windows_sun"' not in html
    assert (input_value(html, "policy_calls"), input_value(html, "policy_min_gap_hours")) == (
        "3",
        "4",
    )
    assert input_value(html, "policy_sms_reply_hours") == "48"
    assert input_value(html, "calls_per_second") == "1"
    assert re.search(r'id="policy_sms" name="policy_sms" type="radio" value="yes" checked', html)
    assert f'<option value="{cohort.id}">North PTL (2 open pathways)</option>' in html
    assert '<option value="standard-validation">' in html
    assert 'value="minimal"' not in html


async def test_a_coordinator_creates_a_draft_and_lands_on_its_page(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)

    response = await page_client.post("/campaigns/new", data=filled(cohort, token))

    assert response.status_code == 303, response.text
    (campaign,) = campaigns(db_session)
    assert response.headers["location"] == f"/campaigns/{campaign.id}"
    assert "waitlist_done=create" in response.headers["set-cookie"]
    landing = await page_client.get(response.headers["location"])
    assert "Campaign created as a draft" in landing.text
    assert "T&amp;O spring" in landing.text
    assert (campaign.name, campaign.cohort_id, campaign.status) == (
        "T&O spring",
        cohort.id,
        "draft",
    )
    script = db_session.get_one(CallScript, campaign.call_script_id)
    assert script.flow_id == "standard-validation"
    assert script.approved_at is not None
    # 09:00 on 1 July in London is 08:00 UTC (summer time).
    assert campaign.starts_at is not None
    assert campaign.starts_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC)
    assert campaign.calling_windows["timezone"] == "Europe/London"
    assert campaign.calling_windows["weekly"]["mon"] == [["09:30", "12:00"], ["13:00", "18:00"]]
    assert campaign.calling_windows["weekly"]["sat"] == []
    assert "sun" not in campaign.calling_windows["weekly"]
    policy = campaign.attempt_policy
    assert (policy["calls"], policy["min_gap_hours"], policy["sms"]) == (2, 5.0, False)
    assert policy["sms_reply_hours"] == 24.0
    assert campaign.calls_per_second == 0.5
    assert campaign.created_by == "bob"
    (event,) = audit_actions(db_session, "campaign.create")
    assert (event.actor, event.entity_id) == ("bob", str(campaign.id))


async def test_an_empty_start_means_as_soon_as_it_is_started(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)

    response = await page_client.post("/campaigns/new", data=filled(cohort, token, starts_at=""))

    assert response.status_code == 303, response.text
    assert campaigns(db_session)[0].starts_at is None


UNKNOWN_COHORT = "424242"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter a name for the campaign"),
        ({"cohort_id": ""}, "cohort_id", "Select a cohort"),
        ({"cohort_id": UNKNOWN_COHORT}, "cohort_id", "Cohort 424242 does not exist"),
        ({"flow_id": ""}, "flow_id", "Select a call script"),
        ({"flow_id": "no-such-flow"}, "flow_id", "No call script with id"),
        ({"calls_per_second": "fast"}, "calls_per_second", "Enter calls a second as a number"),
        ({"calls_per_second": "0"}, "calls_per_second", "Calls a second must be more than 0"),
        ({"calls_per_second": "5"}, "calls_per_second", "at most the account&#39;s 1.0"),
        ({"windows_tue": "9 till 5"}, "windows_tue", "Enter Tuesday&#39;s hours like 09:00-19:00"),
        ({"windows_wed": "07:00-19:00"}, "windows_wed", "Wednesday: calling windows must lie"),
        ({"windows_sat": "16:00-10:00"}, "windows_sat", "Saturday: a window on sat closes before"),
        (
            {f"windows_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "windows_mon",
            "Enter calling hours for at least one day",
        ),
        ({"policy_calls": "9"}, "policy_calls", "An attempt policy makes between 1 and 6 calls"),
        ({"policy_calls": "two"}, "policy_calls", "Enter the number of calls as a whole number"),
        ({"policy_min_gap_hours": "0.5"}, "policy_min_gap_hours", "at least an hour apart"),
        ({"policy_sms_reply_hours": "nan"}, "policy_sms_reply_hours", "Enter the hours to wait"),
        ({"starts_at": "next Tuesday"}, "starts_at", "Enter the start as a UK date and time"),
        ({"starts_at": "2026-03-29T01:30"}, "starts_at", "That time does not exist in the UK"),
    ],
)
async def test_a_mistake_is_shown_beside_its_field_and_everything_typed_is_kept(
    page_client: httpx.AsyncClient,
    db_session: Session,
    personas: Personas,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)
    sent = filled(cohort, token, **changes)

    response = await page_client.post("/campaigns/new", data=sent)

    html = response.text
    assert response.status_code == 200
    assert "<title>Error: Create a campaign" in html
    summary = html.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert f'<a href="#{field}">' in summary
    assert message in summary
    assert "nhsuk-form-group--error" in form_group_of(html, field)
    assert f'id="{field}-error"' in html
    assert f'id="{field}"' in html
    for name in ("starts_at", "windows_mon", "windows_tue", "windows_sat", "calls_per_second"):
        assert input_value(html, name) == (sent[name] or None)
    assert input_value(html, "name") == sent["name"].replace("&", "&amp;")
    assert re.search(r'value="no"[^>]* checked', html)
    assert campaigns(db_session) == []
    assert audit_actions(db_session, "campaign.create") == []


async def test_an_unapproved_script_is_refused_by_the_same_rule_as_the_api(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, app: FastAPI
) -> None:
    cohort = cohort_with_pathways(db_session)
    load_unapproved_script(app)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)

    response = await page_client.post(
        "/campaigns/new", data=filled(cohort, token, flow_id="minimal")
    )

    assert response.status_code == 200
    summary = response.text.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert '<a href="#flow_id"> Call script minimal v1 is not approved' in " ".join(summary.split())
    assert campaigns(db_session) == []
    # Nothing the failed attempt wrote is kept, not even the script row.
    assert db_session.scalars(select(CallScript).where(CallScript.flow_id == "minimal")).all() == []


@pytest.mark.parametrize("username", ["alice", "charlie"])
async def test_only_a_coordinator_may_see_or_send_the_form(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, username: str
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, username)
    token = csrf_token_in((await page_client.get("/")).text)

    shown = await page_client.get("/campaigns/new")
    sent = await page_client.post("/campaigns/new", data=filled(cohort, token))
    listed = await page_client.get("/campaigns")

    assert (shown.status_code, sent.status_code) == (403, 403)
    assert "You cannot see this page" in shown.text
    assert 'href="/campaigns/new"' not in listed.text
    assert campaigns(db_session) == []


async def test_a_coordinator_finds_the_form_from_the_campaign_list(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    await signed_in_as(page_client, personas, "bob")

    listed = await page_client.get("/campaigns")

    assert '<a class="nhsuk-button" href="/campaigns/new">Create a campaign</a>' in listed.text


async def test_a_post_without_the_csrf_token_creates_nothing(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")

    missing = await page_client.post("/campaigns/new", data=filled(cohort, "") | {"csrf_token": ""})
    forged = await page_client.post("/campaigns/new", data=filled(cohort, "not-the-token"))

    assert (missing.status_code, forged.status_code) == (403, 403)
    assert campaigns(db_session) == []


async def test_a_signed_out_browser_is_sent_to_sign_in(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = cohort_with_pathways(db_session)

    shown = await page_client.get("/campaigns/new")
    sent = await page_client.post("/campaigns/new", data=filled(cohort, "x"))

    assert shown.status_code == 303
    assert shown.headers["location"].startswith("/sign-in")
    assert sent.status_code in (303, 403)
    assert campaigns(db_session) == []


def test_the_forms_times_are_wall_clock_times_in_the_settings_time_zone(
    db_session: Session,
) -> None:
    typed = filled(cohort_with_pathways(db_session), "unused", starts_at="2026-07-01T09:00")
    form = CampaignForm.model_validate({k: v for k, v in typed.items() if k != "csrf_token"})

    body, errors = parse_form(form, zone=ZoneInfo("America/New_York"))

    assert errors == {} and body is not None
    # 09:00 on 1 July in New York is 13:00 UTC (daylight time).
    assert body.starts_at == dt.datetime(2026, 7, 1, 13, tzinfo=dt.UTC)
    assert body.calling_windows is not None
    assert body.calling_windows["timezone"] == "America/New_York"


async def test_where_notify_is_configured_the_coordinator_chooses_how_texts_go(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, app: FastAPI
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    html = (await page_client.get("/campaigns/new")).text
    assert 'name="sms_provider"' not in html, "no choice to offer without Notify"

    app.state.settings = app.state.settings.model_copy(
        update={
            "notify_api_key": SecretStr(API_KEY),
            "notify_templates": TEMPLATES,
            "notify_callback_token": SecretStr("a-bearer-token-of-some-length"),
        }
    )
    html = (await page_client.get("/campaigns/new")).text
    assert re.search(r'name="sms_provider" type="radio" value="telephony" checked', html)
    assert 'value="notify"' in html and "GOV.UK Notify" in html

    token = csrf_token_in(html)
    response = await page_client.post(
        "/campaigns/new", data=filled(cohort, token, sms_provider="notify")
    )

    assert response.status_code == 303, response.text
    (campaign,) = campaigns(db_session)
    assert campaign.sms_provider == "notify"


async def test_an_sms_provider_this_deployment_lacks_is_refused_beside_its_field(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)

    response = await page_client.post(
        "/campaigns/new", data=filled(cohort, token, sms_provider="notify")
    )

    assert response.status_code == 200
    assert "is not configured here" in response.text
    assert campaigns(db_session) == []


async def test_reminder_texts_are_set_on_the_form_and_a_wrong_list_is_refused_beside_it(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    cohort = cohort_with_pathways(db_session)
    await signed_in_as(page_client, personas, "bob")
    token = csrf_token_in((await page_client.get("/campaigns/new")).text)

    refused = await page_client.post(
        "/campaigns/new",
        data=filled(cohort, token, policy_sms="yes", policy_reminder_days="6, 3"),
    )
    assert refused.status_code == 200
    assert "nhsuk-form-group--error" in form_group_of(refused.text, "policy_reminder_days")
    assert input_value(refused.text, "policy_reminder_days") == "6, 3", "what was typed is kept"
    assert campaigns(db_session) == []

    created = await page_client.post(
        "/campaigns/new",
        data=filled(cohort, token, policy_sms="yes", policy_reminder_days="3, 6"),
    )
    assert created.status_code == 303, created.text
    (campaign,) = campaigns(db_session)
    assert campaign.attempt_policy["reminder_days"] == [3, 6]
