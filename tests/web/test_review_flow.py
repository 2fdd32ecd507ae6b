"""The review workspace's rhythm: summary first, every error at once, next item, undo."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ClinicalDecision, Outcome, ReviewItem, ReviewStatus
from tests.review.conftest import queue_pathway
from tests.support.campaign_factories import make_attempt, make_campaign
from tests.support.users import Personas
from tests.support.web import csrf_token_in
from tests.web.test_review_pages import post_decision, signed_in_as

MACHINE_LABELS = ("still_needed", "unconfirmed:", "no_input", "not_needed", ">verified<")


def add_conversation(session: Session, item: ReviewItem) -> None:
    """A conversation with a redacted date-of-birth turn, a read-back and a plain answer."""
    from app.models import Answer, Pathway

    pathway = session.get(Pathway, item.pathway_id)
    assert pathway is not None
    campaign = make_campaign(session, name="Orthopaedics spring")
    item.campaign_id = campaign.id
    attempt = make_attempt(session, campaign=campaign, pathway=pathway)
    turns = [
        ("identity", "speech", None, "no_input"),
        ("identity", "speech", None, "verified"),
        ("still_needed", "speech", "I had it done privately", "unconfirmed:not_needed"),
        ("still_needed", "dtmf", "1", "still_needed"),
    ]
    for turn, (step, kind, said, meaning) in enumerate(turns):
        session.add(
            Answer(
                contact_attempt_id=attempt.id,
                pathway_id=pathway.id,
                step=step,
                turn=turn,
                prompt=f"Question {turn}",
                input_kind=kind,
                raw_input=said,
                interpretation=meaning,
                flow_id="standard-validation",
                flow_version=1,
                flow_hash="a" * 64,
                answered_at=attempt.due_at,
            )
        )
    session.flush()


async def test_the_item_opens_with_a_summary_in_plain_words(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Ada")
    add_conversation(db_session, item)
    await signed_in_as(page_client, personas, "alice")

    page = (await page_client.get(f"/review/{item.id}")).text

    summary, _, rest = page.partition("Your decision")
    assert "What they said" in summary
    assert "“I had it done privately”" in summary
    assert "Pressed 1" in summary
    assert "Taken to mean: <strong>Still needs the treatment</strong>" in summary
    assert re.search(r"<dt[^>]*>Age</dt><dd[^>]*>\d+ \(born", summary)
    assert "Orthopaedics spring" in summary
    assert "The whole conversation" in rest
    assert "Date of birth given (not shown)" in rest
    assert "Date of birth confirmed" in rest
    for label in MACHINE_LABELS:
        assert label not in page, label
    assert "UTC" not in page


async def test_a_removal_code_is_suggested_only_where_the_answer_grounds_it(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    leaving = queue_pathway(db_session, outcome=Outcome.LEAVE)
    worsened = queue_pathway(db_session, outcome=Outcome.WORSENED)
    await signed_in_as(page_client, personas, "alice")

    leave_page = (await page_client.get(f"/review/{leaving.id}")).text
    worse_page = (await page_client.get(f"/review/{worsened.id}")).text

    assert "35: Patient declined treatment (suggested)" in leave_page
    assert "(suggested)" not in worse_page
    assert "Red flags" in worse_page
    # The code and priority fields sit inside the decisions that need them (NHS.UK conditionals).
    assert 'data-reveals="conditional-decision-remove"' in worse_page
    remove_part = worse_page.split('id="conditional-decision-remove"')[1]
    assert 'name="rtt_status_code"' in remove_part.split("</fieldset>")[0]
    expedite_part = worse_page.split('id="conditional-decision-expedite"')[1]
    assert 'name="new_priority"' in expedite_part.split("</fieldset>")[0]


async def test_every_problem_in_the_form_is_shown_at_once(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    await signed_in_as(page_client, personas, "alice")

    removal = await post_decision(page_client, item, decision="remove")
    nothing = await post_decision(page_client, item)

    assert removal.status_code == 422
    summary = removal.text.split('class="nhsuk-error-summary"')[1].split("</ul>")[0]
    assert 'href="#rtt_status_code"' in summary
    assert 'href="#note"' in summary
    assert 'href="#decision"' in nothing.text and 'href="#note"' in nothing.text
    assert db_session.scalars(select(ClinicalDecision)).all() == []


async def test_a_hidden_field_left_filled_is_ignored_for_another_decision(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    await signed_in_as(page_client, personas, "alice")

    response = await post_decision(
        page_client, item, decision="keep", rtt_status_code="34", note="Still waiting."
    )

    assert response.status_code == 303
    [decision] = db_session.scalars(select(ClinicalDecision)).all()
    assert decision.rtt_status_code is None


async def test_a_decision_opens_the_next_item_in_the_same_queue_and_can_be_undone(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    first = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="First")
    queue_pathway(db_session, outcome=Outcome.WORSENED, given_name="Elsewhere")
    second = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Second")
    await signed_in_as(page_client, personas, "alice")
    page = await page_client.get(f"/review/{first.id}?reason=leave")
    data = {
        "csrf_token": csrf_token_in(page.text),
        "version": str(first.version),
        "decision": "keep",
        "note": "Still needs it.",
        "reason": "leave",
    }

    decided = await page_client.post(f"/review/{first.id}/decision", data=data)

    assert decided.status_code == 303
    location = decided.headers["location"]
    assert location.startswith(f"/review/{second.id}?reason=leave&decided=")
    following = await page_client.get(location)
    assert "First Testpatient: Kept on the waiting list." in following.text
    assert '<h1 class="nhsuk-heading-l">Second Testpatient</h1>' in following.text
    undo_form = following.text.split(f'action="/review/{first.id}/undo"')[1].split("</form>")[0]
    decision_id = re.search(r'name="decision_id" value="(\d+)"', undo_form)
    assert decision_id is not None

    undone = await page_client.post(
        f"/review/{first.id}/undo",
        data={
            "csrf_token": csrf_token_in(following.text),
            "decision_id": decision_id.group(1),
            "reason": "leave",
        },
    )

    assert undone.status_code == 303
    assert undone.headers["location"] == f"/review/{first.id}?reason=leave"
    db_session.expire_all()
    assert db_session.get(ReviewItem, first.id).status == ReviewStatus.OPEN  # type: ignore[union-attr]
    [record] = db_session.scalars(select(ClinicalDecision)).all()
    assert record.undone_at is not None
    queue = await page_client.get("/review")
    assert "No decisions waiting for export" in queue.text


async def test_the_queue_shows_the_answer_age_and_the_export_count_at_the_top(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Ada")
    add_conversation(db_session, item)
    done = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Done")
    await signed_in_as(page_client, personas, "alice")
    await post_decision(page_client, done, decision="keep", note="Keep.")

    queue = (await page_client.get("/review")).text

    heading, _, table = queue.partition("<table")
    assert "Download outcome CSV" in heading
    assert "1 decision waiting for export to the PAS" in heading
    assert "Pressed 1: Still needs the treatment" in table
    assert "Orthopaedics spring" in table
    assert re.search(r"Age \d+ ·", table)
