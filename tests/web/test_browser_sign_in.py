from __future__ import annotations

import re

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
    expect(
        browser_page.get_by_role("main").get_by_text("Signed in as Alice Adeyemi")
    ).to_be_visible()
    # The NHS.UK frontend's module ran (it needs no inline script, which CSP would block).
    expect(browser_page.locator("body")).to_have_class("js-enabled nhsuk-frontend-supported")
    browser_page.get_by_role("button", name="Sign out").click()
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Sign in")
    browser_page.goto(live_server.url("/"))
    expect(browser_page).to_have_url(live_server.url("/sign-in?next=%2F"))
    assert problems == []


@pytest.mark.browser
def test_signing_in_and_out_works_without_javascript(
    live_server: LiveServer, browser_page: Page
) -> None:
    browser = browser_page.context.browser
    assert browser is not None
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server.base_url, "bob", live_server.passwords["bob"])
        expect(page.get_by_role("main").get_by_text("Signed in as Bob Brennan")).to_be_visible()
        with page.expect_navigation():
            page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    finally:
        context.close()


@pytest.mark.browser
def test_the_first_tab_reaches_the_skip_link_and_errors_are_linked_to_fields(
    live_server: LiveServer, browser_page: Page
) -> None:
    browser_page.goto(live_server.url("/sign-in"))
    browser_page.keyboard.press("Tab")
    expect(browser_page.locator(":focus")).to_have_text("Skip to main content")
    browser_page.get_by_role("button", name="Sign in").click()
    expect(browser_page).to_have_title(re.compile(r"^Error: Sign in\b"))
    browser_page.get_by_role("link", name="Enter your password").click()
    expect(browser_page.get_by_label("Password")).to_be_focused()
