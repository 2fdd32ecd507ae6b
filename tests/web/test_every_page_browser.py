"""Every page, as every role, in a real Chromium: never a 5xx, no WCAG 2.1 A/AA violation from
axe-core, and nothing wider than a 390 px phone screen.

Pages are found from the app's own routes, so a new page is checked without editing this file.
axe-core comes from the ``axe-playwright-python`` package (its bundled ``axe.min.js``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from app.db import session_scope
from app.main import create_app
from app.models import Outcome, ReviewItem, ValidationSchedule, WorklistTask
from app.outcomes.service import record_outcome
from app.web.auth import PUBLIC_PREFIXES
from tests.support.browser import CHROMIUM_ARGS, LiveServer, chromium_or_skip, run_live_server
from tests.support.campaign_factories import make_campaign
from tests.support.factories import make_cohort, make_pathway
from tests.support.settings import make_settings
from tests.web.test_review_browser import DOCS_SCREENSHOTS, seed_queue

pytestmark = pytest.mark.browser
PEOPLE = ("alice", "bob", "charlie")
WIDTHS = (1200, 390)
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
DESIGNED = {403: "You cannot see this page", 404: "Page not found"}
# Not pages: probes, metrics, downloads, and the fragment the campaign page polls.
NOT_PAGES = re.compile(r"^/(healthz|readyz|metrics)$|\.(csv|pdf)$|/progress$")
# With WAITLIST_UPDATE_SCREENSHOTS=1, these pages are kept at phone width for docs/screenshots.
PHONE_SHOTS = {"/review": "review-queue", "/campaigns": "campaigns", "/dashboard": "dashboard"}


def page_paths(values: dict[str, str]) -> list[str]:
    """Every GET page of the app, its parameters filled with rows that exist."""
    app = create_app(make_settings("sqlite://"))
    paths = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if "GET" not in (context.methods or ()) or path.startswith(("/api/", *PUBLIC_PREFIXES)):
            continue
        if NOT_PAGES.search(path):
            continue
        paths.append(re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path))
    return sorted(set(paths))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, list[str]]]:
    """The app over a queue with conversations, a campaign and its report."""
    with run_live_server(tmp_path_factory.mktemp("pages")) as server:
        with session_scope(server.session_factory) as session:
            items = seed_queue(session)
        with session_scope(server.session_factory) as session:
            item = session.get(ReviewItem, items["Ada"])
            assert item is not None
            values = {"item_id": str(item.id), "campaign_id": str(item.campaign_id)}
            # A schedule and a worklist task (an unreachable patient's), for their own pages.
            cohort = make_cohort(session, "Rolling")
            schedule = ValidationSchedule(
                name="Rolling validation",
                cohort_id=cohort.id,
                campaign_id=make_campaign(session, cohort=cohort).id,
                milestone_weeks=[12, 26, 52],
            )
            session.add(schedule)
            unreachable = make_pathway(session, cohort=cohort)
            record_outcome(session, pathway=unreachable, outcome=Outcome.UNREACHABLE)
            session.flush()
            task = session.scalars(
                select(WorklistTask.id).where(WorklistTask.pathway_id == unreachable.id)
            ).first()
            assert task is not None
            values |= {"schedule_id": str(schedule.id), "task_id": str(task)}
        values["import_job_id"] = "1"
        yield server, page_paths(values)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url("/sign-in"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(server.passwords[username])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page, one line each."""
    results: Any = Axe().run(page, options=WCAG_21_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def too_wide(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def keep_phone_shot(page: Page, path: str) -> None:
    """A phone-width screenshot for the docs, when refreshing them."""
    if not os.environ.get("WAITLIST_UPDATE_SCREENSHOTS"):
        return
    name = PHONE_SHOTS.get(path) or (
        "review-item" if path.startswith("/review/") else
        "campaign" if re.fullmatch(r"/campaigns/\d+", path) else
        "report" if path.startswith("/reports/campaigns/") else None
    )  # fmt: skip
    if name:
        page.screenshot(path=str(DOCS_SCREENSHOTS / f"phone-{name}.png"), full_page=True)


@pytest.mark.parametrize("username", PEOPLE)
def test_every_page_answers_as_designed_passes_axe_and_fits_a_phone(
    served: tuple[LiveServer, list[str]], browser: Browser, username: str
) -> None:
    server, paths = served
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            sign_in(page, server, username)
            for path in paths:
                response = page.goto(server.url(path))
                assert response is not None, path
                where = f"{username} {path} at {width} px"
                status = response.status
                assert status < 500, f"{where}: {status}"
                if status != 200:
                    assert status in DESIGNED, f"{where}: {status}"
                    assert DESIGNED[status] in page.content(), f"{where}: not the designed page"
                problems += [f"{where}: {v}" for v in violations(page)]
                if width < 400 and (overflow := too_wide(page)) > 0:
                    problems.append(f"{where}: {overflow} px wider than the screen")
                if width < 400 and username == "alice":
                    keep_phone_shot(page, path)
        finally:
            context.close()
    assert problems == [], "\n".join(problems)


def test_the_sign_in_page_passes_axe_at_both_widths(
    served: tuple[LiveServer, list[str]], browser: Browser
) -> None:
    server, _ = served
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            page.goto(server.url("/sign-in"))
            assert violations(page) == []
            assert too_wide(page) <= 0
        finally:
            context.close()
