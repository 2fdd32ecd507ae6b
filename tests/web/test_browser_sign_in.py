from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.support.browser import LiveServer, sign_in


@pytest.mark.browser
def test_a_clinician_signs_in_sees_the_home_page_and_signs_out(
    live_server: LiveServer, browser_page: Page
) -> None:
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    browser_page.on("console", note)
    browser_page.goto(live_server.url("/"))
    expect(browser_page).to_have_url(live_server.url("/sign-in?next=%2F"))
    sign_in(browser_page, live_server.base_url, "alice", live_server.passwords["alice"])
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Waiting list validation")
    expect(browser_page.get_by_text("Signed in as Alice Adeyemi")).to_be_visible()
    # The NHS.UK frontend's module ran (it needs no inline script, which CSP would block).
    expect(browser_page.locator("body")).to_have_class("js-enabled nhsuk-frontend-supported")
    browser_page.get_by_role("button", name="Sign out").click()
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Sign in")
    browser_page.goto(live_server.url("/"))
    expect(browser_page).to_have_url(live_server.url("/sign-in?next=%2F"))
    assert problems == []
