"""The report page in a real browser: it renders its charts under the CSP and reads well."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from app.db import session_scope
from tests.support.browser import LiveServer, sign_in
from tests.support.campaign_factories import make_synthetic_campaign

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "report.png"
UPDATE_ENV = "WAITLIST_UPDATE_SCREENSHOTS"


@pytest.mark.browser
def test_a_coordinator_reads_the_report_of_a_synthetic_campaign(
    live_server: LiveServer, browser_page: Page, tmp_path: Path
) -> None:
    with session_scope(live_server.session_factory) as session:
        campaign_id = make_synthetic_campaign(session, people=400).id
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    browser_page.on("console", note)
    browser_page.set_viewport_size({"width": 1280, "height": 900})
    browser_page.goto(live_server.url("/"))
    sign_in(browser_page, live_server.base_url, "bob", live_server.passwords["bob"])
    browser_page.goto(live_server.url(f"/reports/campaigns/{campaign_id}"))

    expect(browser_page.get_by_role("heading", level=1)).to_have_text(
        "Trauma and orthopaedics, spring 2026"
    )
    expect(
        browser_page.get_by_role(
            "img", name="Campaign funnel: Trauma and orthopaedics, spring 2026"
        )
    ).to_be_visible()
    expect(
        browser_page.get_by_role("img", name="Response rate by imd decile (1 = most deprived)")
    ).to_be_visible()
    # The constructed disparity (deprived areas answer less) is flagged, with what to do.
    expect(browser_page.get_by_text("Some groups responded less than others")).to_be_visible()
    # The stylesheet applied (no inline style is allowed, so this proves the CSS file loaded).
    chart_width = browser_page.locator(".app-chart svg").first.evaluate(
        "e => getComputedStyle(e).maxWidth"
    )
    assert chart_width == "100%"
    assert problems == []

    shot = tmp_path / "report.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get(UPDATE_ENV):
        shutil.copyfile(shot, SCREENSHOT)
