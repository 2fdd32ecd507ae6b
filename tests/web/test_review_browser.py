"""The review queue in a real headless Chromium: sign in, work the queue, decide, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import session_scope, utcnow
from app.models import Answer, CallScript, Campaign, ContactAttempt, Outcome, Patient, ReviewItem
from app.outcomes.service import record_outcome
from app.review.export import export_outcomes
from tests.support.browser import LiveServer, sign_in
from tests.support.factories import make_cohort, make_pathway

pytestmark = pytest.mark.browser
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshots_dir(tmp_path: Path) -> Path:
    """docs/screenshots when refreshing them (WAITLIST_UPDATE_SCREENSHOTS=1), else a temp dir."""
    target = DOCS_SCREENSHOTS if os.environ.get("WAITLIST_UPDATE_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


PATIENTS = [
    ("Grace", "Hopper", Outcome.WORSENED, "P2", "110", "Trauma and orthopaedics"),
    ("Ada", "Lovelace", Outcome.LEAVE, "P3", "120", "Ear, nose and throat"),
    ("Alan", "Turing", Outcome.LEAVE, "P4", "110", "Trauma and orthopaedics"),
    ("Mary", "Seacole", Outcome.UNCLEAR, "P3", "130", "Ophthalmology"),
    ("Florence", "Nightingale", Outcome.CALLBACK_REQUESTED, None, "120", "Ear, nose and throat"),
]


def seed_queue(session: Session) -> dict[str, int]:
    """Synthetic patients with a conversation each; returns item ids by given name."""
    cohort = make_cohort(session, "Autumn validation")
    script = CallScript(
        flow_id="rtt-validation",
        version=3,
        content_hash="4f1c0d2b9e" + "0" * 54,
        title="RTT validation",
        language="en",
        content="",
    )
    session.add(script)
    session.flush()
    campaign = Campaign(name="Autumn", cohort_id=cohort.id, call_script_id=script.id)
    session.add(campaign)
    session.flush()
    now = utcnow()
    items: dict[str, int] = {}
    for n, (given, family, outcome, priority, specialty, specialty_name) in enumerate(PATIENTS):
        pathway = make_pathway(
            session,
            cohort=cohort,
            priority=priority,
            specialty_code=specialty,
            specialty_name=specialty_name,
            clock_start_date=dt.date(2025, 1 + n, 6),
            planned_procedure="Total knee replacement" if specialty == "110" else None,
        )
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None
        patient.given_name, patient.family_name = given, family
        attempt = ContactAttempt(
            campaign_id=campaign.id,
            pathway_id=pathway.id,
            patient_id=pathway.patient_id,
            attempt_number=1,
            channel="voice",
            status="completed",
            token=f"browser-{n}",
            due_at=now - dt.timedelta(days=6, hours=n),
        )
        session.add(attempt)
        session.flush()
        turns = [
            (
                "confirm_identity",
                "Please say your date of birth.",
                "fourteenth of March",
                0.93,
                "identity_confirmed",
            ),
            (
                "still_needed",
                "Do you still want to have your operation?",
                answer_for(outcome),
                0.88 if outcome != Outcome.UNCLEAR else 0.41,
                outcome.value,
            ),
        ]
        for turn, (step, prompt, said, confidence, meaning) in enumerate(turns):
            session.add(
                Answer(
                    contact_attempt_id=attempt.id,
                    pathway_id=pathway.id,
                    step=step,
                    turn=turn,
                    prompt=prompt,
                    input_kind="speech",
                    raw_input=said,
                    confidence=confidence,
                    interpretation=meaning,
                    flow_id=script.flow_id,
                    flow_version=script.version,
                    flow_hash=script.content_hash,
                    answered_at=now
                    - dt.timedelta(days=6, hours=n)
                    + dt.timedelta(seconds=20 * turn),
                )
            )
        entry = record_outcome(
            session,
            pathway=pathway,
            outcome=outcome,
            campaign_id=campaign.id,
            contact_attempt_id=attempt.id,
            now=now - dt.timedelta(days=6, hours=n),
        )
        items[given] = session.scalars(
            select(ReviewItem.id).where(ReviewItem.pathway_outcome_id == entry.id)
        ).one()
    return items


def answer_for(outcome: Outcome) -> str:
    return {
        Outcome.WORSENED: "yes but the pain is much worse now, I can't sleep",
        Outcome.LEAVE: "no, I had it done privately last month",
        Outcome.UNCLEAR: "I'm not sure, maybe",
        Outcome.CALLBACK_REQUESTED: "can someone ring me back",
    }[outcome]


def test_a_clinician_works_the_queue_decides_and_finds_it_in_the_export(
    live_server: LiveServer, browser_page: Page, tmp_path: Path
) -> None:
    with session_scope(live_server.session_factory) as session:
        items = seed_queue(session)
    page = browser_page
    page.set_viewport_size({"width": 1200, "height": 1100})
    sign_in(page, live_server.base_url, "alice", live_server.passwords["alice"])

    page.goto(live_server.url("/review"))
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    links = page.locator("table a[href^='/review/']")
    expect(links.first).to_have_text("Grace Hopper")
    expect(page.get_by_text("Overdue: worsened")).to_be_visible()
    screenshots = screenshots_dir(tmp_path)
    page.screenshot(path=str(screenshots / "review-queue.png"), full_page=True)

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    said = page.locator(".app-said")
    expect(said.get_by_text("no, I had it done privately last month")).to_be_visible()
    expect(said).to_contain_text("Taken to mean: Wants to leave the list")
    expect(page.get_by_text("rtt-validation v3").first).to_be_visible()
    page.get_by_label("Remove from the waiting list").check()
    page.get_by_label("35: Patient declined treatment (suggested)").check()
    page.get_by_label("Note (required)").fill("Had the operation privately in October.")
    page.screenshot(path=str(screenshots / "review-item.png"), full_page=True)
    page.get_by_role("button", name="Record decision").click()

    expect(
        page.get_by_text("Ada Lovelace: Removed from the waiting list (RTT 35).")
    ).to_be_visible()
    page.get_by_role("link", name="Back to the review queue").click()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_count(0)
    expect(page.get_by_text("1 decision waiting for export to the PAS")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download outcome CSV").click()
    target = tmp_path / "outcomes.csv"
    download_info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    # A removal reaches the PAS only once its change-of-mind window has closed: not yet.
    assert [(r["clinical_decision"], r["rtt_status_code"]) for r in rows] == []
    with session_scope(live_server.session_factory) as session:
        out = io.StringIO()
        export_outcomes(session, out=out, actor="test", now=utcnow() + dt.timedelta(days=15))
    later = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["clinical_decision"], r["rtt_status_code"], r["decided_by"]) for r in later] == [
        ("remove", "35", "alice")
    ]
    assert items["Ada"]


def test_a_coordinator_can_read_an_item_but_not_decide(
    live_server: LiveServer, browser_page: Page
) -> None:
    with session_scope(live_server.session_factory) as session:
        items = seed_queue(session)
    page = browser_page
    sign_in(page, live_server.base_url, "bob", live_server.passwords["bob"])

    page.goto(live_server.url(f"/review/{items['Grace']}"))

    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(page.get_by_text("Only clinicians can decide on review items.")).to_be_visible()
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)


def test_a_signed_out_visitor_sees_only_the_sign_in_page(
    live_server: LiveServer, browser_page: Page
) -> None:
    with session_scope(live_server.session_factory) as session:
        items = seed_queue(session)
    page = browser_page

    page.goto(live_server.url(f"/review/{items['Grace']}"))

    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_text("Grace")).to_have_count(0)


def test_a_clinician_works_three_items_in_a_row_by_keyboard_and_undoes_one(
    live_server: LiveServer, browser_page: Page, tmp_path: Path
) -> None:
    with session_scope(live_server.session_factory) as session:
        items = seed_queue(session)
    page = browser_page
    page.set_viewport_size({"width": 1200, "height": 1100})
    sign_in(page, live_server.base_url, "alice", live_server.passwords["alice"])
    page.goto(live_server.url("/review"))
    page.get_by_role("link", name="Grace Hopper").click()
    page.wait_for_load_state()

    # Only the chosen decision's own fields show (NHS.UK conditional radios).
    expect(page.get_by_label("P1")).to_be_hidden()
    page.keyboard.press("e")
    expect(page.get_by_label("P1")).to_be_focused()
    page.keyboard.press("Space")
    page.get_by_label("Note (required)").fill("Pain much worse: raise to P1.")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    page.wait_for_load_state()  # the shortcut script is a module: it runs before "load"
    expect(page.get_by_text("Grace Hopper: Expedited to P1.")).to_be_visible()
    expect(page.get_by_label("35: Patient declined treatment (suggested)")).to_be_hidden()
    page.keyboard.press("r")
    page.get_by_label("35: Patient declined treatment (suggested)").check()
    page.get_by_label("Note (required)").fill("Had it done privately.")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Alan Turing", level=1)).to_be_visible()
    page.wait_for_load_state()  # the shortcut script is a module: it runs before "load"
    page.keyboard.press("k")
    expect(page.get_by_label("Note (required)")).to_be_focused()
    page.keyboard.type("Still wants the operation.")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Mary Seacole", level=1)).to_be_visible()
    expect(page.get_by_text("Alan Turing: Kept on the waiting list.")).to_be_visible()
    page.screenshot(path=str(screenshots_dir(tmp_path) / "review-next-item.png"), full_page=True)
    page.get_by_role("button", name="Undo the decision for Alan Turing").click()

    expect(page.get_by_role("heading", name="Alan Turing", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Record decision")).to_be_visible()
    with session_scope(live_server.session_factory) as session:
        statuses = {
            name: session.get(ReviewItem, items[name]).status.value  # type: ignore[union-attr]
            for name in ("Grace", "Ada", "Alan")
        }
    assert statuses == {"Grace": "decided", "Ada": "decided", "Alan": "open"}
