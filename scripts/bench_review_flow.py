"""How much work a clinician's decision takes, in a real Chromium, through the real app.

Seeds a fresh SQLite database with open review items of mixed reasons (scripts/bench_review.py's
``populate``: synthetic patients, 999 test-range NHS numbers), serves the app with uvicorn on
loopback, and has a clinician decide them in Debian's Chromium (Playwright ``executable_path``),
two ways, alternately (so both meet every reason):

* ``queue``: the round trip that was the only path before the next-item flow: from the queue,
  click the patient, click the decision (and its code or priority), click the note, type it,
  click "Record decision", and land back on the queue;
* ``next item``: the flow now: the next item opens after each decision; a shortcut key chooses
  the decision (K keep, E expedite, C call back, R remove), the note is typed, Ctrl+Enter
  records it.

Actions are key presses and clicks; typing the note counts as one action (its length is the
same in both ways). Server time per decision is the POST of the decision plus the GET of the
page it leads to, from the browser's resource timing (request start to response end, on
loopback). The bare limit, measured in the same run through the same browser, is ``/healthz``.

    PYTHONPATH=. python scripts/bench_review_flow.py --items 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Response, sync_playwright
from pydantic import SecretStr
from sqlalchemy import select

from app.config import Settings
from app.db import make_engine, make_session_factory, session_scope
from app.demo import free_port, serve_in_background
from app.models import Pathway, ReviewItem, ReviewStatus, Role
from app.schema import upgrade
from app.users.service import create_user
from scripts.bench_review import PASSWORD, populate

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
NOTE = "Spoke to the patient's answer; decision as recorded."
RTT_FOR = {"leave": "35"}


@dataclass
class Tally:
    """Actions and server milliseconds, per kind of decision."""

    actions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    server_ms: list[float] = field(default_factory=list)


def decision_for(reason: str, priority: str | None, n: int) -> str:
    """A plausible mix: removals for some leavers, expedites for the worse, call-backs, keeps."""
    if reason == "leave":
        return "remove" if n % 2 == 0 else "keep"
    if reason == "worsened":
        return "expedite" if priority != "P1" else "call_back"
    if reason == "callback_requested":
        return "call_back"
    return "keep" if n % 3 else "call_back"


def _timing_ms(response: Response) -> float:
    timing = response.request.timing
    return float(timing["responseEnd"] - timing["requestStart"])


def _item_facts(page: Page) -> tuple[str, str | None]:
    reason = page.locator(".nhsuk-caption-l").first.inner_text().strip()
    priority_row = page.locator(".nhsuk-summary-list__row", has_text="Priority").first
    priority = priority_row.locator("dd").inner_text().strip()
    return reason, None if priority == "Not known" else priority


REASON_OF_CAPTION = {
    "Worsened": "worsened",
    "Wants to leave": "leave",
    "Unclear answer": "unclear",
    "Asked for a call back": "callback_requested",
}


def _record(page: Page, submit: Any) -> float:
    """Submit, and the server time of the POST and the page it leads to."""
    responses: list[Response] = []

    def keep(response: Response) -> None:
        if "/review" in response.url:
            responses.append(response)

    page.on("response", keep)
    with page.expect_navigation():
        submit()
    page.wait_for_load_state()
    page.remove_listener("response", keep)
    return sum(_timing_ms(r) for r in responses)


def decide_by_queue(page: Page, base: str, n: int, tally: Tally) -> None:
    """The mouse round trip through the queue (the path before the next-item flow)."""
    page.goto(base + "/review")
    actions = 1
    page.locator("table a[href^='/review/']").first.click()
    page.wait_for_load_state()
    caption, priority = _item_facts(page)
    kind = decision_for(REASON_OF_CAPTION[caption], priority, n // 2)
    label = {
        "keep": "Keep on the waiting list",
        "remove": "Remove from the waiting list",
        "expedite": "Expedite (raise the surgical priority)",
        "call_back": "Call the patient back",
    }[kind]
    page.get_by_label(label, exact=True).click()
    actions += 1
    if kind == "remove":
        page.locator("input[name=rtt_status_code][value='35']").click()
        actions += 1
    if kind == "expedite":
        page.locator("input[name=new_priority][value='P1']").click()
        actions += 1
    page.locator("#note").click()
    page.locator("#note").fill(NOTE)
    actions += 2
    tally.server_ms.append(
        _record(page, lambda: page.get_by_role("button", name="Record decision").click())
    )
    tally.actions[kind].append(actions + 1)


def decide_by_next_item(page: Page, n: int, tally: Tally) -> None:
    """The next-item flow with the keyboard; the page is already on the item."""
    caption, priority = _item_facts(page)
    kind = decision_for(REASON_OF_CAPTION[caption], priority, n // 2)
    key = {"keep": "k", "remove": "r", "expedite": "e", "call_back": "c"}[kind]
    page.keyboard.press(key)
    actions = 1
    if kind == "remove":
        page.keyboard.press("ArrowDown")  # from 34 to 35: the patient declined treatment
        page.locator("#note").click()
        actions += 2
    if kind == "expedite":
        page.keyboard.press("Space")  # P1, focused by the shortcut
        page.locator("#note").click()
        actions += 2
    page.keyboard.type(NOTE)
    actions += 1
    tally.server_ms.append(_record(page, lambda: page.keyboard.press("Control+Enter")))
    tally.actions[kind].append(actions + 1)


def bare_limit(page: Page, base: str, repeat: int = 30) -> float:
    """Median /healthz round trip through the same browser (ms)."""
    times = []
    for _ in range(repeat):
        response = page.goto(base + "/healthz")
        assert response is not None
        times.append(_timing_ms(response))
    return statistics.median(times)


def main() -> None:
    """Seed, serve, decide every item both ways, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url, ROOT / "migrations")
        engine = make_engine(url)
        populate(engine, pathways=args.items * 4, items=args.items, seed=args.seed)
        with session_scope(make_session_factory(engine)) as session:
            create_user(
                session, username="alice", full_name="Alice Adeyemi", role=Role.CLINICIAN,
                password=PASSWORD,
            )  # fmt: skip
        port = free_port("127.0.0.1")
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key=SecretStr("bench-secret-key-that-is-long-enough-0123456789"),
            public_base_url=f"http://127.0.0.1:{port}",
        )
        base = settings.public_base_url
        tallies = {"queue": Tally(), "next item": Tally()}
        with serve_in_background(settings, host="127.0.0.1", port=port), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(base + "/sign-in")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill(PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            bare = bare_limit(page, base)
            # Interleaved, so both ways meet every reason: a queue-way decision lands on the
            # next item (this app's flow), which the next-item way then decides.
            for n in range(args.items):
                if n % 2 == 0:
                    decide_by_queue(page, base, n, tallies["queue"])
                else:
                    decide_by_next_item(page, n, tallies["next item"])
            browser.close()
        with session_scope(make_session_factory(engine)) as session:
            still_open = session.scalars(
                select(ReviewItem.id).where(ReviewItem.status == ReviewStatus.OPEN)
            ).all()
            assert session.scalars(select(Pathway.id)).first() is not None
        engine.dispose()
    print(
        f"\n{args.items} review items, SQLite, {dt.datetime.now(dt.UTC):%Y-%m-%d}, "
        f"{platform.processor() or platform.machine()}; bare /healthz {bare:.1f} ms; "
        f"{len(still_open)} left open\n"
    )
    print("| Way | Decision | Decisions | Actions (median, max) | Server ms per decision "
          "(median) | Ratio to bare |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for way, tally in tallies.items():
        server = statistics.median(tally.server_ms)
        for kind, counts in sorted(tally.actions.items()):
            print(
                f"| {way} | {kind} | {len(counts)} | {statistics.median(counts):g}, "
                f"{max(counts)} | {server:.1f} | {server / bare:.1f} |"
            )


if __name__ == "__main__":
    main()
