from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.models import (
    AuditEvent,
    ClinicalDecision,
    Decision,
    Outcome,
    ReviewItem,
    ReviewStatus,
    Role,
)
from app.review.decisions import decide
from app.users.service import create_user
from tests.review.conftest import queue_pathway
from tests.support.users import Personas, password_for
from tests.support.web import csrf_token_in, sign_in


async def signed_in_as(client: httpx.AsyncClient, personas: Personas, name: str) -> None:
    response = await sign_in(client, name, personas.passwords[name])
    assert response.status_code == 303, response.text


async def post_decision(
    client: httpx.AsyncClient, item: ReviewItem, **fields: str
) -> httpx.Response:
    page = await client.get(f"/review/{item.id}")
    data = {"csrf_token": csrf_token_in(page.text), "version": str(item.version)}
    data.update(fields)
    return await client.post(f"/review/{item.id}/decision", data=data)


async def test_a_signed_out_browser_sees_nothing(
    page_client: httpx.AsyncClient, db_session: Session
) -> None:
    item = queue_pathway(db_session, given_name="Visible")
    for path in ("/review", f"/review/{item.id}"):
        response = await page_client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")
        assert "Visible" not in response.text
    export = await page_client.post("/review/export", data={})
    assert export.status_code in (303, 403)
    assert "nhs_number" not in export.text


async def test_the_queue_lists_worsened_first_and_escapes_patient_names(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Leaving")
    queue_pathway(db_session, outcome=Outcome.WORSENED, given_name="<script>alert(1)</script>")
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.get("/review")

    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert response.text.index(escaped) < response.text.index("Leaving")
    assert "Worsened: 1" in response.text


async def test_filters_narrow_the_queue(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    queue_pathway(db_session, given_name="Orthopaedic", specialty_code="110")
    queue_pathway(db_session, given_name="Entpatient", specialty_code="120")
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.get("/review?specialty=120")

    assert "Entpatient" in response.text
    assert "Orthopaedic" not in response.text


async def test_an_overdue_worsened_item_is_highlighted(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    month_ago = utcnow() - dt.timedelta(days=30)
    queue_pathway(db_session, outcome=Outcome.WORSENED, now=month_ago)
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.get("/review")

    assert "Overdue: worsened" in response.text
    assert "app-row--urgent" in response.text


async def test_next_and_previous_links_page_through_the_queue(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas, settings: Settings
) -> None:
    settings.review_page_size = 2  # the app was built with this very settings object
    for n in range(3):
        queue_pathway(db_session, given_name=f"Patient{n}")
    await signed_in_as(page_client, personas, "alice")

    first = await page_client.get("/review")
    assert "Less urgent items" in first.text
    next_href = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await page_client.get(next_href.replace("&amp;", "&"))

    assert second.status_code == 200
    assert "More urgent items" in second.text
    assert second.text.count('href="/review/') == 1


async def test_the_item_page_shows_the_conversation_and_audits_the_view(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Ada")
    await signed_in_as(page_client, personas, "bob")

    response = await page_client.get(f"/review/{item.id}")

    assert response.status_code == 200
    assert "Ada Testpatient" in response.text
    assert "Only clinicians can decide" in response.text
    assert 'action="/review/' not in response.text.split("Only clinicians")[0].split("Sign out")[-1]
    events = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "review_item.viewed", AuditEvent.entity_id == str(item.id)
        )
    ).all()
    assert [e.actor_user_id for e in events] == [personas["bob"].id]


async def test_a_clinician_removes_an_item_and_it_leaves_the_queue(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Removed")
    await signed_in_as(page_client, personas, "alice")

    response = await post_decision(
        page_client, item, decision="remove", rtt_status_code="35", note="Had it done elsewhere."
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/review?decided=")
    queue = await page_client.get(response.headers["location"])
    assert "Removed Testpatient: Removed from the waiting list (RTT 35)." in queue.text
    assert 'href="/review/' not in queue.text.split("<table")[-1]
    assert "That was the last item in this queue." in queue.text
    [decision] = db_session.scalars(select(ClinicalDecision)).all()
    assert (decision.decision, decision.rtt_status_code, decision.decided_by_id) == (
        Decision.REMOVE,
        "35",
        personas["alice"].id,
    )


async def test_a_decision_without_a_note_or_code_is_shown_again_with_the_problem(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    await signed_in_as(page_client, personas, "alice")

    no_note = await post_decision(page_client, item, decision="remove", rtt_status_code="35")
    no_code = await post_decision(page_client, item, decision="remove", note="Declined.")

    assert no_note.status_code == 422
    assert "Enter a note explaining the decision." in no_note.text
    assert no_code.status_code == 422
    assert "Confirm the RTT status code" in no_code.text
    assert item.status == ReviewStatus.OPEN


async def test_a_coordinator_cannot_decide(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    await signed_in_as(page_client, personas, "bob")

    response = await post_decision(page_client, item, decision="keep", note="Keep.")

    assert response.status_code == 403
    assert db_session.scalars(select(ClinicalDecision)).all() == []


async def test_a_decision_without_the_csrf_token_is_refused(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    await signed_in_as(page_client, personas, "alice")

    response = await page_client.post(
        f"/review/{item.id}/decision",
        data={"version": str(item.version), "decision": "keep", "note": "Keep."},
    )

    assert response.status_code == 403
    assert db_session.scalars(select(ClinicalDecision)).all() == []


async def test_the_second_clinician_sees_who_decided_and_when(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session)
    seen = item.version
    await signed_in_as(page_client, personas, "alice")
    page = await page_client.get(f"/review/{item.id}")
    erin = create_user(
        db_session,
        username="erin",
        full_name="Erin Evans",
        role=Role.CLINICIAN,
        password=password_for("erin"),
    )
    decide(
        db_session,
        item_id=item.id,
        seen_version=seen,
        decision=Decision.KEEP,
        note="Still needs surgery.",
        by=erin,
    )

    response = await page_client.post(
        f"/review/{item.id}/decision",
        data={
            "csrf_token": csrf_token_in(page.text),
            "version": str(seen),
            "decision": "remove",
            "rtt_status_code": "35",
            "note": "Wants to leave.",
        },
    )

    assert response.status_code == 409
    assert "Your decision was not recorded" in response.text
    assert "Already decided by Erin Evans on " in response.text


async def test_a_coordinator_downloads_the_export_and_an_admin_cannot(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        # A keep goes out at once (a removal waits for its change-of-mind window).
        decision=Decision.KEEP,
        note="=HYPERLINK(1)",
        by=personas["alice"],
    )
    await signed_in_as(page_client, personas, "bob")
    queue = await page_client.get("/review")

    response = await page_client.post(
        "/review/export", data={"csrf_token": csrf_token_in(queue.text)}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["clinical_decision"], row["note"]) == ("keep", "'=HYPERLINK(1)")

    await page_client.post("/sign-out", data={"csrf_token": csrf_token_in(queue.text)})
    await signed_in_as(page_client, personas, "charlie")
    home = await page_client.get("/")
    refused = await page_client.post(
        "/review/export", data={"csrf_token": csrf_token_in(home.text)}
    )
    assert refused.status_code == 403


async def test_a_clinician_undoes_a_removal_and_the_item_is_back_in_the_queue(
    page_client: httpx.AsyncClient, db_session: Session, personas: Personas
) -> None:
    item = queue_pathway(db_session, outcome=Outcome.LEAVE, given_name="Returning")
    removal = decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.REMOVE,
        rtt_status_code="35",
        note="Declined.",
        by=personas["alice"],
    )
    await signed_in_as(page_client, personas, "alice")
    page = await page_client.get(f"/review/{item.id}")
    assert "Decided by Alice Adeyemi on " in page.text
    assert "Undo the removal" in page.text

    response = await page_client.post(
        f"/review/{item.id}/undo",
        data={"csrf_token": csrf_token_in(page.text), "decision_id": str(removal.id)},
    )

    assert response.status_code == 303
    db_session.refresh(item)
    assert item.status == ReviewStatus.OPEN
    assert "Returning" in (await page_client.get("/review")).text
