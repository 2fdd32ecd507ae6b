"""Creating and starting a campaign in a real headless Chromium, as a coordinator would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import session_scope
from tests.support.browser import LiveServer, sign_in
from tests.support.factories import make_cohort, make_pathway
from tests.web.test_review_browser import screenshots_dir

pytestmark = pytest.mark.browser


def test_a_coordinator_creates_a_campaign_through_the_form_and_starts_it(
    live_server: LiveServer, browser_page: Page, tmp_path: Path
) -> None:
    with session_scope(live_server.session_factory) as session:
        cohort = make_cohort(session, "North PTL")
        for _ in range(3):
            make_pathway(session, cohort=cohort)
        cohort_id = str(cohort.id)
    page = browser_page
    page.set_viewport_size({"width": 1200, "height": 1100})
    sign_in(page, live_server.base_url, "bob", live_server.passwords["bob"])

    page.goto(live_server.url("/campaigns"))
    page.get_by_role("link", name="Create a campaign").click()
    expect(page.get_by_role("heading", name="Create a campaign")).to_be_visible()
    expect(page.get_by_label("Monday")).to_have_value("09:00-19:00")
    page.get_by_label("Cohort").select_option(cohort_id)
    page.get_by_label("Call script").select_option("standard-validation")
    page.get_by_label("Saturday").fill("")
    page.get_by_role("button", name="Create campaign").click()

    # Forgot the name: the summary links to the field and nothing typed is lost.
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    page.get_by_role("link", name="Enter a name for the campaign").click()
    expect(page.get_by_label("Campaign name")).to_be_focused()
    expect(page.get_by_label("Cohort")).to_have_value(cohort_id)
    expect(page.get_by_label("Call script")).to_have_value("standard-validation")
    expect(page.get_by_label("Saturday")).to_have_value("")
    page.screenshot(path=str(screenshots_dir(tmp_path) / "campaign-new.png"), full_page=True)
    page.get_by_label("Campaign name").fill("North PTL winter")
    page.get_by_role("button", name="Create campaign").click()

    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    expect(page.get_by_role("heading", name="North PTL winter")).to_be_visible()
    expect(page.get_by_text("Campaign created as a draft")).to_be_visible()
    status = page.locator(".nhsuk-summary-list__row", has_text="Status")
    expect(status).to_contain_text("Draft")
    page.get_by_role("button", name="Start campaign").click()

    expect(page.get_by_text("Campaign started: its first contacts are planned")).to_be_visible()
    expect(status).to_contain_text("Scheduled")
    expect(page.locator("#attempts")).to_contain_text("Planned")
    expect(page.get_by_role("button", name="Start campaign")).to_have_count(0)
    setup = page.locator("#campaign-setup")
    expect(setup).to_contain_text("version 1")
    expect(setup).to_contain_text("Up to 3 calls")
    page.screenshot(path=str(screenshots_dir(tmp_path) / "campaign-detail.png"), full_page=True)

    # The banner is said once: a reload does not repeat it.
    page.reload()
    expect(page.get_by_role("heading", name="North PTL winter")).to_be_visible()
    expect(page.get_by_text("Campaign started: its first contacts are planned")).to_have_count(0)
